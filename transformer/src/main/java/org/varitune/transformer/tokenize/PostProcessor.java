package org.varitune.transformer.tokenize;

import java.util.List;

/**
 * HF's post-processing as a template (TemplateProcessing; BertProcessing and RobertaProcessing are the templates
 * {@code [CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1} and {@code <s> $A </s> </s> $B </s>}): special tokens are inserted,
 * type ids come from the template, and the special-tokens mask is 1 exactly on the inserted tokens.
 *
 * @param single template for one sequence
 * @param pair   template for two sequences
 */
public record PostProcessor(List<Piece> single, List<Piece> pair) {

    public PostProcessor {
        single = List.copyOf(single);
        pair = List.copyOf(pair);
        if (count(single, 0) != 1 || count(single, 1) != 0) {
            throw new IllegalArgumentException("the single template must hold sequence A once and no sequence B");
        }
        if (count(pair, 0) != 1 || count(pair, 1) != 1) {
            throw new IllegalArgumentException("the pair template must hold sequences A and B once each");
        }
    }

    private static int count(List<Piece> tpl, int sequence) {
        int n = 0;
        for (Piece p : tpl) if (p.sequence == sequence) n++;
        return n;
    }

    /**
     * One template element.
     *
     * @param sequence 0 = sequence A, 1 = sequence B, -1 = special token(s)
     * @param ids      the special token's ids (empty for a sequence)
     * @param tokens   the special token's strings (empty for a sequence)
     * @param typeId   type id given to every token of this element
     */
    public record Piece(int sequence, int[] ids, String[] tokens, int typeId) {
        public static Piece seq(int sequence, int typeId) { return new Piece(sequence, new int[0], new String[0], typeId); }

        public static Piece special(String token, int id, int typeId) {
            return new Piece(-1, new int[] {id}, new String[] {token}, typeId);
        }
    }

    /** BERT: {@code [CLS] A [SEP]} and {@code [CLS] A [SEP] B [SEP]} with B and its [SEP] of type 1. */
    public static PostProcessor bert(String cls, int clsId, String sep, int sepId) {
        return new PostProcessor(
                List.of(Piece.special(cls, clsId, 0), Piece.seq(0, 0), Piece.special(sep, sepId, 0)),
                List.of(Piece.special(cls, clsId, 0), Piece.seq(0, 0), Piece.special(sep, sepId, 0),
                        Piece.seq(1, 1), Piece.special(sep, sepId, 1)));
    }

    /** RoBERTa: {@code <s> A </s>} and {@code <s> A </s></s> B </s>}, type ids all 0. */
    public static PostProcessor roberta(String cls, int clsId, String sep, int sepId) {
        return new PostProcessor(
                List.of(Piece.special(cls, clsId, 0), Piece.seq(0, 0), Piece.special(sep, sepId, 0)),
                List.of(Piece.special(cls, clsId, 0), Piece.seq(0, 0), Piece.special(sep, sepId, 0),
                        Piece.special(sep, sepId, 0), Piece.seq(1, 0), Piece.special(sep, sepId, 0)));
    }

    /** Number of special tokens the template for one sequence (pair = false) or a pair adds. */
    public int addedTokens(boolean isPair) {
        int n = 0;
        for (Piece p : isPair ? pair : single) n += p.ids.length;
        return n;
    }

    /**
     * Builds the encoding {@code template(a, b)}.
     *
     * @param a       ids of sequence A, (Ta); not modified
     * @param aTokens token strings of A, (Ta); not modified
     * @param b       ids of sequence B, (Tb), or null for a single sequence; not modified
     * @param bTokens token strings of B, (Tb), or null
     */
    Encoding apply(int[] a, List<String> aTokens, int[] b, List<String> bTokens) {
        List<Piece> tpl = b == null ? single : pair;
        int t = addedTokens(b != null) + a.length + (b == null ? 0 : b.length);
        int[] ids = new int[t];
        int[] types = new int[t];
        int[] att = new int[t];
        int[] special = new int[t];
        String[] toks = new String[t];
        int k = 0;
        for (Piece p : tpl) {
            if (p.sequence >= 0) {
                int[] src = p.sequence == 0 ? a : b;
                List<String> srcTokens = p.sequence == 0 ? aTokens : bTokens;
                for (int j = 0; j < src.length; j++) {
                    ids[k] = src[j];
                    types[k] = p.typeId;
                    toks[k] = srcTokens.get(j);
                    k++;
                }
            } else {
                for (int j = 0; j < p.ids.length; j++) {
                    ids[k] = p.ids[j];
                    types[k] = p.typeId;
                    special[k] = 1;
                    toks[k] = p.tokens[j];
                    k++;
                }
            }
        }
        java.util.Arrays.fill(att, 1);
        return new Encoding(ids, types, att, special, toks);
    }
}
