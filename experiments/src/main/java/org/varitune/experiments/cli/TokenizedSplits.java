package org.varitune.experiments.cli;

import org.varitune.experiments.data.Dataset;
import org.varitune.experiments.data.Example;
import org.varitune.training.trainer.TokenizedDataset;
import org.varitune.transformer.tokenize.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/** Converts the experiments' {@link Dataset}s into the trainer's {@link TokenizedDataset}s. */
public final class TokenizedSplits {
    private TokenizedSplits() {}

    /**
     * Tokenizes every example ({@code encode(textA, textB, maxLength)}: special tokens, HF's longest-first
     * truncation) and takes its target: the class label, or the score for a regression dataset. An example without a
     * target is an error naming the source line.
     *
     * @param name the split name used in reports (e.g. {@code dev_matched})
     */
    public static TokenizedDataset of(Dataset d, String name, Tokenizer tok, int maxLength) {
        List<TokenizedDataset.Row> rows = new ArrayList<>(d.size());
        int n = d.size();
        int[] labels = d.regression() ? null : new int[n];
        float[] scores = d.regression() ? new float[n] : null;
        for (int i = 0; i < n; i++) {
            Example e = d.examples().get(i);
            if (!e.hasTarget()) {
                throw new IllegalArgumentException(d.source() + " line " + e.sourceLine() + ": " + d.name() + "/"
                        + d.split() + " example has no target; training and evaluation need labelled splits");
            }
            rows.add(TokenizedDataset.Row.of(tok.encode(e.textA(), e.textB(), maxLength)));
            if (d.regression()) scores[i] = (float) e.score(); else labels[i] = e.label();
        }
        return d.regression() ? TokenizedDataset.regression(name, rows, scores, tok.padTokenId())
                : TokenizedDataset.classification(name, rows, labels, d.numLabels(), tok.padTokenId());
    }
}
