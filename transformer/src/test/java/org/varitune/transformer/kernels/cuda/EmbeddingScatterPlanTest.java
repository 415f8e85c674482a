package org.varitune.transformer.kernels.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CSR grouping the GPU embedding backward uses: one owner per table row, tokens in the CPU's order. */
class EmbeddingScatterPlanTest {

    @Test
    void groupsRepeatedIdsByAscendingRowKeepingTokenOrder() {
        int[] ids = {7, 2, 7, 0, 2, 7};
        var p = EmbeddingScatterPlan.build(ids, ids.length, 10, -1, "word");
        assertArrayEquals(new int[] {0, 2, 7}, p.rows());
        assertArrayEquals(new int[] {0, 1, 3, 6}, p.offsets());
        assertArrayEquals(new int[] {3, 1, 4, 0, 2, 5}, p.members());
    }

    @Test
    void leavesOutThePaddingRowAndUsesOnlyTheFirstNTokens() {
        int[] ids = {1, 0, 1, 0, 3, 3};
        var p = EmbeddingScatterPlan.build(ids, 5, 4, 0, "word");
        assertArrayEquals(new int[] {1, 3}, p.rows());
        assertArrayEquals(new int[] {0, 2, 3}, p.offsets());
        assertArrayEquals(new int[] {0, 2, 4}, p.members());
    }

    @Test
    void emptyInputGivesAnEmptyPlan() {
        var p = EmbeddingScatterPlan.build(new int[0], 0, 5, -1, "word");
        assertEquals(0, p.numRows());
        assertArrayEquals(new int[] {0}, p.offsets());
        var allPad = EmbeddingScatterPlan.build(new int[] {2, 2}, 2, 5, 2, "word");
        assertEquals(0, allPad.numRows());
    }

    @Test
    void rejectsRowsOutsideTheTableNamingTokenAndTable() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> EmbeddingScatterPlan.build(new int[] {1, 5}, 2, 5, -1, "embeddings.word_embeddings.weight"));
        assertTrue(e.getMessage().contains("embeddings.word_embeddings.weight") && e.getMessage().contains("token 1")
                && e.getMessage().contains("row 5"), e.getMessage());
    }
}
