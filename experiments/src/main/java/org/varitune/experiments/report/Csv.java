package org.varitune.experiments.report;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The CSV tables varitune writes (report.csv, report-paired.csv, variability.csv), printed by Commons CSV: RFC 4180
 * fields (a field holding a comma, a quote, CR or LF is quoted, its quotes doubled), a header line first. A
 * {@code Double} is written by {@link Double#toString(double)} and NaN as an empty field; {@code null} is an empty
 * field too.
 */
public final class Csv {
    private final CSVPrinter printer;
    private final int columns;
    private final StringBuilder text = new StringBuilder();

    /** A table with these columns; {@code recordSeparator} ends every line ("\r\n" as in RFC 4180, or "\n"). */
    public Csv(String recordSeparator, String... header) {
        columns = header.length;
        try {
            printer = new CSVPrinter(text, CSVFormat.RFC4180.builder().setRecordSeparator(recordSeparator)
                    .setHeader(header).get());
        } catch (IOException e) {
            throw new UncheckedIOException(e);          // a StringBuilder does not throw
        }
    }

    /** Appends one line; it must have as many fields as the header. */
    public Csv row(Object... fields) {
        if (fields.length != columns) {
            throw new IllegalArgumentException("CSV row of " + fields.length + " fields under a header of " + columns);
        }
        List<Object> cells = new ArrayList<>(fields.length);
        for (Object o : fields) cells.add(o instanceof Double d && d.isNaN() ? null : o);
        try {
            printer.printRecord(cells);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** The header and every row so far. */
    @Override
    public String toString() {
        return text.toString();
    }
}
