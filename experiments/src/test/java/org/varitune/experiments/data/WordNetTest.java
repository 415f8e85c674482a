package org.varitune.experiments.data;

import org.junit.jupiter.api.Test;
import org.varitune.experiments.data.WordNet.Pos;
import org.varitune.experiments.data.WordNet.Synset;
import org.varitune.transformer.testing.TestBase;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WordNetTest extends TestBase {

    @Test
    void lexnamesAreWordNetsFortyFiveFilesInOrder() {
        assertEquals(45, WordNet.LEXNAMES.size());
        assertEquals("adj.all", WordNet.LEXNAMES.get(0));
        assertEquals("adv.all", WordNet.LEXNAMES.get(2));
        assertEquals("noun.Tops", WordNet.LEXNAMES.get(3));
        assertEquals("noun.animal", WordNet.LEXNAMES.get(5));
        assertEquals("noun.person", WordNet.LEXNAMES.get(18));
        assertEquals("noun.time", WordNet.LEXNAMES.get(28));
        assertEquals("verb.body", WordNet.LEXNAMES.get(29));
        assertEquals("verb.weather", WordNet.LEXNAMES.get(43));
        assertEquals("adj.ppl", WordNet.LEXNAMES.get(44));
    }

    @Test
    void readsEverySynsetWithALexFileOfItsPartOfSpeech() {
        Map<Pos, Integer> expected = Map.of(Pos.NOUN, 82192, Pos.VERB, 13789, Pos.ADJ, 18185, Pos.ADV, 3625);
        Map<Pos, String> prefix = Map.of(Pos.NOUN, "noun.", Pos.VERB, "verb.", Pos.ADJ, "adj.", Pos.ADV, "adv.");
        for (Pos pos : Pos.values()) {
            List<Synset> synsets = WordNet.synsets(pos);
            assertEquals(expected.get(pos), synsets.size(), pos.toString());
            for (Synset s : synsets) {
                assertTrue(s.lexName().startsWith(prefix.get(pos)), s.lexName() + " at line " + s.line());
                assertTrue(!s.definition().isEmpty(), "empty definition at line " + s.line());
            }
        }
    }

    @Test
    void parsesTheFirstNounSynsetsAfterTheLicenseHeader() {
        List<Synset> nouns = WordNet.synsets(Pos.NOUN);
        Synset entity = nouns.get(0);
        assertEquals(1740, entity.offset());
        assertEquals(30, entity.line(), "29 license lines come first");
        assertEquals("noun.Tops", entity.lexName());
        assertEquals(List.of("entity"), entity.words());
        assertTrue(entity.hypernyms().isEmpty());
        Synset physical = nouns.get(1);
        assertEquals(List.of("physical_entity"), physical.words());
        assertEquals(7, physical.pointers().size());
        assertEquals(List.of(new WordNet.Pointer("@", 1740, Pos.NOUN)), physical.hypernyms());
        assertEquals("an entity that has physical existence", physical.definition());
    }

    @Test
    void everyNounAndVerbHypernymPointsToASynsetOfTheSamePartOfSpeech() {
        for (Pos pos : List.of(Pos.NOUN, Pos.VERB)) {
            Map<Long, Synset> byOffset = new HashMap<>();
            for (Synset s : WordNet.synsets(pos)) byOffset.put(s.offset(), s);
            for (Synset s : WordNet.synsets(pos))
                for (WordNet.Pointer p : s.hypernyms()) {
                    assertEquals(pos, p.pos(), "line " + s.line());
                    assertNotNull(byOffset.get(p.offset()), "line " + s.line() + " pointer " + p);
                }
        }
    }

    @Test
    void definitionStopsBeforeTheFirstExample() {
        assertEquals("draw air into, and expel out of, the lungs",
                WordNet.definition("draw air into, and expel out of, the lungs; \"I can breathe better\"; \"The patient is respiring\""));
        assertEquals("act of assembling and putting into readiness for war",
                WordNet.definition("act of assembling and putting into readiness for war: \"mobilization of the troops\""));
        assertEquals("a tangible and visible entity; an entity that can cast a shadow",
                WordNet.definition("a tangible and visible entity; an entity that can cast a shadow; \"it was full of objects\""));
        assertEquals("a demand especially in the phrase \"the call of duty\"",
                WordNet.definition("a demand especially in the phrase \"the call of duty\""));
        assertEquals("ends with a semicolon", WordNet.definition("ends with a semicolon; "));
    }

    @Test
    void examplesAreTheQuotedPassagesAfterTheDefinitionWithWhitespaceCollapsed() {
        assertEquals(List.of("I can breathe better", "The patient is respiring"),
                WordNet.examples("draw air into, and expel out of, the lungs; \"I can breathe better\"; \"The patient is respiring\""));
        assertEquals(List.of("mobilization of the troops"),
                WordNet.examples("act of assembling and putting into readiness for war: \"mobilization of the troops\""));
        assertEquals(List.of("he heard the call", "go"),
                WordNet.examples("a demand, as in \"the call of duty\"; \" he  heard \t the call \"; \"\"; \"go\" - Shakespeare"),
                "a quote inside the definition is not an example; empty passages are skipped; attributions are not text");
        assertEquals(List.of(), WordNet.examples("an entity that has physical existence"));
    }

    @Test
    void rejectsAnUnpairedQuoteAfterTheDefinitionQuotingTheGloss() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WordNet.examples("a thing; \"half a sentence"));
        assertTrue(e.getMessage().contains("a thing; \"half a sentence") && e.getMessage().contains("character 9"), e.getMessage());
    }

    @Test
    void rejectsADataLineWithoutGloss() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WordNet.parse(Pos.NOUN, "00001740 03 n 01 entity 0 000", 30));
        assertTrue(e.getMessage().contains("' | '"), e.getMessage());
    }

    @Test
    void rejectsAnUnknownLexFileNumber() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WordNet.parse(Pos.NOUN, "00001740 45 n 01 entity 0 000 | that which exists", 30));
        assertTrue(e.getMessage().contains("lex_filenum 45"), e.getMessage());
    }
}
