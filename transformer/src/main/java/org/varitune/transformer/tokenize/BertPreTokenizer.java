package org.varitune.transformer.tokenize;

import java.util.List;

/**
 * HF's {@code BertPreTokenizer}: split on White_Space (removed), then isolate every punctuation character
 * ({@link CharClasses#isPunctuation}) as its own word.
 */
public final class BertPreTokenizer implements PreTokenizer {

    @Override
    public void split(String text, List<String> out) {
        int start = -1;  // start of the current word, -1 when none
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            int n = Character.charCount(c);
            if (CharClasses.isWhitespace(c)) {
                if (start >= 0) out.add(text.substring(start, i));
                start = -1;
            } else if (CharClasses.isPunctuation(c)) {
                if (start >= 0) out.add(text.substring(start, i));
                out.add(text.substring(i, i + n));
                start = -1;
            } else if (start < 0) {
                start = i;
            }
            i += n;
        }
        if (start >= 0) out.add(text.substring(start));
    }
}
