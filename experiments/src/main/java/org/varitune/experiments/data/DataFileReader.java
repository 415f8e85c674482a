package org.varitune.experiments.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.varitune.experiments.data.DataFileOptions.Format;
import org.varitune.experiments.data.DataFileOptions.TaskType;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads a user's own task from data files: CSV, TSV or JSON Lines (see {@link Format}), one file per split, with the
 * defaults of HF {@code transformers}' {@code examples/pytorch/text-classification/run_glue.py} for local files.
 *
 * <p><b>Files.</b> UTF-8 (invalid bytes are an error; a byte order mark is dropped). CSV and TSV: RFC 4180, a header
 * row, then one record per row with as many fields as the header; a quoted field may hold delimiters, doubled quotes
 * and line breaks. JSON Lines: one JSON object per line, its keys are the columns (the first object's keys are the
 * file's columns). No row is ever skipped: a blank line is a record with the wrong number of fields (CSV, TSV) or an
 * error (JSON Lines).
 *
 * <p><b>Text columns</b> ({@link DataFileOptions#textColumn()} unset), run_glue's rule over the train file's columns:
 * with {@code non_label} the columns other than the label column, in file order, the texts are
 * {@code sentence1, sentence2} when both are in {@code non_label}; else the first two of {@code non_label} (a
 * sentence-pair task) when it has two or more; else its only column (single sentence). The validation and test files
 * must have the same text columns. A text may be empty (counted in {@link Dataset#emptyTexts()}); in JSON it must be
 * a string or a number (taken as written).
 *
 * <p><b>Labels</b> (column {@link DataFileOptions#labelColumn()}, default {@code label}), as run_glue decides them on
 * the train file: with {@link TaskType#AUTO}, the task is regression when the column holds floats (run_glue: its
 * dtype is float32 or float64) and classification otherwise, with the label list = the sorted distinct values of the
 * train file (all of them, also when {@code maxTrain} keeps fewer examples) and label id = index in that list. A CSV
 * value's type is what pandas would infer: an integer ({@code [+-]?[0-9]+}), a float (a decimal with a point or an
 * exponent), or text; a column of integers is sorted by value (so labels 0..C-1 keep their ids), a column with a float
 * is regression, any text makes it a column of strings sorted by code point. (Only an empty field is missing here;
 * pandas also reads {@code NA}, {@code null}, {@code nan} ... as missing, here they are text.) A JSON value's type is
 * its JSON type (a string {@code "1"} is text). {@link TaskType#REGRESSION} requires every target to be a number;
 * {@link TaskType#CLASSIFICATION} over a numeric column sorts the distinct numbers by value (names written as plain
 * numbers: {@code 1.0} and {@code 1} are one class, {@code "1"}). {@link Dataset#labelNames()} holds the list (the
 * id2label to save with a model). Validation and test labels map through the train file's list; an unknown label is
 * an error. A test file may lack the label column: its examples are then unlabeled ({@link Example#NO_LABEL}).
 *
 * <p><b>Errors</b> are {@link MalformedDataException}s naming the file, the 1-based line (where the record starts,
 * for a CSV record spanning lines) and the column: a missing column (listing the header), a wrong field count, CSV
 * quoting errors, malformed JSON, a text that is not a JSON string or number, an empty label, an unknown label, a
 * regression target that is not a number, a train file with one distinct label, a file without records. Bad options
 * (an unknown extension) are {@link IllegalArgumentException}s.
 */
public final class DataFileReader {
    private DataFileReader() {}

    /**
     * Reads a task from its train, validation and (optional) test files.
     *
     * @param train      train file; decides the text columns, the task type and the label list. Not modified.
     * @param validation validation file (the dev split). Not modified.
     * @param test       test file, or null; may lack the label column. Not modified.
     * @param options    columns, task type, format ({@link DataFileOptions#DEFAULTS})
     * @param maxTrain   0 = all; otherwise the first {@code maxTrain} train examples in file order (every record is
     *                   still read and checked, and the label list is that of the whole file, as run_glue's
     *                   {@code max_train_samples})
     * @return task data named after the train file ({@link #taskName}); main metric {@code accuracy} for
     *         classification and {@code pearson} for regression (as {@link GlueTask#STSB})
     * @throws MalformedDataException for a format error (see the class comment)
     * @throws IllegalArgumentException for {@code maxTrain < 0} or a file with an unknown extension
     */
    public static TaskData read(Path train, Path validation, Path test, DataFileOptions options, int maxTrain)
            throws IOException {
        if (maxTrain < 0) throw new IllegalArgumentException("maxTrain " + maxTrain + " < 0 (0 = all)");
        String name = taskName(train);

        // Train: every label is kept (the label list needs them all), texts only for the examples kept.
        record Row(String a, String b, int line) {}
        List<Row> rows = new ArrayList<>();
        List<Cell> labelCells = new ArrayList<>();
        List<Integer> labelLines = new ArrayList<>();
        Columns cols;
        int empty = 0;
        try (Records r = open(train, options)) {
            cols = textColumns(r, options);
            r.require(options.labelColumn());
            while (r.next()) {
                String a = text(r, cols.a()), b = cols.b() == null ? null : text(r, cols.b());
                labelCells.add(label(r, options.labelColumn()));
                labelLines.add(r.line());
                if (maxTrain == 0 || rows.size() < maxTrain) {
                    rows.add(new Row(a, b, r.line()));
                    if (a.isEmpty() || (b != null && b.isEmpty())) empty++;
                }
            }
            if (labelCells.isEmpty()) throw new MalformedDataException(train, 0, "no records after the header");
        }
        Labels labels = Labels.decide(train, options, labelCells, labelLines);
        List<Example> examples = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Row w = rows.get(i);
            examples.add(labels.example(train, w.a(), w.b(), labelCells.get(i), w.line()));
        }
        Dataset trainSet = new Dataset(name, name, "train", examples, labels.names(), labels.regression(),
                cols.b() != null, train.toString(), 0, List.of(), empty);
        Dataset dev = readSplit(validation, "dev", name, cols, labels, options, true);
        Dataset testSet = test == null ? null : readSplit(test, "test", name, cols, labels, options, false);
        return new TaskData(name, trainSet, List.of(dev), testSet, labels.regression() ? "pearson" : "accuracy");
    }

    /**
     * The task name of a train file: its name without extension ({@code spam.csv}: {@code spam}), or, when that is
     * {@code train}, its folder's name ({@code data/spam/train.csv}: {@code spam}).
     */
    public static String taskName(Path train) {
        String n = train.getFileName().toString();
        int dot = n.lastIndexOf('.');
        String stem = dot > 0 ? n.substring(0, dot) : n;
        Path parent = train.toAbsolutePath().getParent();
        return stem.equalsIgnoreCase("train") && parent != null && parent.getFileName() != null
                ? parent.getFileName().toString() : stem;
    }

    /** A validation ({@code labelRequired}) or test split, read with the train file's columns and labels. */
    private static Dataset readSplit(Path file, String split, String name, Columns cols, Labels labels,
                                     DataFileOptions options, boolean labelRequired) throws IOException {
        List<Example> examples = new ArrayList<>();
        int empty = 0;
        String labelColumn = options.labelColumn();
        try (Records r = open(file, options)) {
            r.require(cols.a());
            if (cols.b() != null) r.require(cols.b());
            if (labelRequired) r.require(labelColumn);
            boolean labeled = r.columns().contains(labelColumn);
            while (r.next()) {
                String a = text(r, cols.a()), b = cols.b() == null ? null : text(r, cols.b());
                if (a.isEmpty() || (b != null && b.isEmpty())) empty++;
                if (labeled) {
                    examples.add(labels.example(file, a, b, label(r, labelColumn), r.line()));
                } else {
                    if (r.cell(labelColumn) != null)
                        throw new MalformedDataException(file, r.line(), "has a '" + labelColumn + "' label but line 1"
                                + " had none (a test file is either labeled or not)");
                    examples.add(Example.unlabeled(a, b, r.line()));
                }
            }
            if (examples.isEmpty()) throw new MalformedDataException(file, 0, "no records after the header");
        }
        return new Dataset(name, name, split, examples, labels.names(), labels.regression(), cols.b() != null,
                file.toString(), 0, List.of(), empty);
    }

    // ---------------------------------------------------------------- columns, texts, labels

    /** The text columns: first and second text (null for a single-sentence task). */
    private record Columns(String a, String b) {}

    /**
     * The text columns of a file with {@code columns}: the options' columns when given, else run_glue's rule
     * ({@code sentence1}/{@code sentence2} when both exist, else the first two columns other than the label column, else
     * the only one). Used by every reader of users' files ({@code predict --input} too).
     *
     * @return {text column, pair column or null}, or null when the columns hold no text column
     */
    public static String[] textColumns(List<String> columns, DataFileOptions o) {
        if (o.textColumn() != null) return new String[] {o.textColumn(), o.textPairColumn()};
        List<String> nonLabel = columns.stream().filter(n -> !n.equals(o.labelColumn())).toList();
        if (nonLabel.contains("sentence1") && nonLabel.contains("sentence2")) return new String[] {"sentence1", "sentence2"};
        if (nonLabel.size() >= 2) return new String[] {nonLabel.get(0), nonLabel.get(1)};
        if (nonLabel.size() == 1) return new String[] {nonLabel.get(0), null};
        return null;
    }

    /** The text columns of a train file ({@link #textColumns(List, DataFileOptions)}), present in it. */
    private static Columns textColumns(Records r, DataFileOptions o) throws MalformedDataException {
        String[] t = textColumns(r.columns(), o);
        if (t == null) {
            throw new MalformedDataException(r.file(), 1, "no text column: the columns " + show(r.columns())
                    + " are only the label column '" + o.labelColumn() + "'");
        }
        Columns c = new Columns(t[0], t[1]);
        r.require(c.a());
        if (c.b() != null) r.require(c.b());
        return c;
    }

    /** The text in {@code column} of the current record: a CSV field, or a JSON string or number as written. */
    private static String text(Records r, String column) throws MalformedDataException {
        Cell c = r.cell(column);
        if (c == null) throw r.missing(column);
        if (c.kind() != Kind.STRING && c.kind() != Kind.INTEGER && c.kind() != Kind.FLOAT)
            throw new MalformedDataException(r.file(), r.line(), "column '" + column + "' holds " + json(c)
                    + "; a text must be a JSON string or number");
        return c.text();
    }

    /** The label cell of the current record: present, not empty, not a JSON object or array. */
    private static Cell label(Records r, String column) throws MalformedDataException {
        Cell c = r.cell(column);
        if (c == null) throw r.missing(column);
        if (c.kind() == Kind.NULL || c.text().isEmpty())
            throw new MalformedDataException(r.file(), r.line(), "empty label in column '" + column + "'");
        if (c.kind() == Kind.OBJECT || c.kind() == Kind.ARRAY)
            throw new MalformedDataException(r.file(), r.line(), "column '" + column + "' holds " + json(c)
                    + "; a label must be a JSON string, number or boolean");
        return c;
    }

    /** A JSON value that is not a text, for messages: {@code null}, {@code the boolean true}, {@code an object}. */
    private static String json(Cell c) {
        return switch (c.kind()) {
            case BOOLEAN -> "the boolean " + c.text();
            case OBJECT -> "an object";
            case ARRAY -> "an array";
            default -> c.text();
        };
    }

    /** What the value of a column was in its file. CSV gives STRING, INTEGER or FLOAT (by {@link #INTEGER}, {@link #FLOAT}). */
    enum Kind { STRING, INTEGER, FLOAT, BOOLEAN, NULL, OBJECT, ARRAY }

    /** One value: its text (JSON: as written; for null, objects and arrays, the words "null", "object", "array"). */
    record Cell(String text, Kind kind) {}

    /** An integer as pandas reads it from CSV. */
    static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    /** A float as pandas reads it from CSV (a decimal with a point or an exponent; also matches integers). */
    static final Pattern FLOAT = Pattern.compile("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?");

    /** The kind of a CSV field. */
    static Kind csvKind(String s) {
        return INTEGER.matcher(s).matches() ? Kind.INTEGER : FLOAT.matcher(s).matches() ? Kind.FLOAT : Kind.STRING;
    }

    /** The exact value of a number written as text ({@link #FLOAT}), trailing zeros stripped; null if it is not one. */
    static BigDecimal decimal(String s) {
        if (!FLOAT.matcher(s).matches()) return null;
        try {
            return new BigDecimal(s).stripTrailingZeros();
        } catch (NumberFormatException e) { // an exponent beyond int range
            return null;
        }
    }

    /** A class name for a number: plain notation ({@code 10}, {@code 0.5}), scientific for huge exponents. */
    private static String numberName(BigDecimal d) {
        return Math.abs(d.scale()) < 64 ? d.toPlainString() : d.toString();
    }

    /** Python's sort order of str: by code point. */
    private static final Comparator<String> CODE_POINT_ORDER = (x, y) -> {
        int i = 0, j = 0;
        while (i < x.length() && j < y.length()) {
            int a = x.codePointAt(i), b = y.codePointAt(j);
            if (a != b) return Integer.compare(a, b);
            i += Character.charCount(a);
            j += Character.charCount(b);
        }
        return Integer.compare(x.length() - i, y.length() - j);
    };

    /** How labels were decided on the train file, and how a label cell becomes a target. */
    private record Labels(Mode mode, List<String> names, Map<String, Integer> ids, String column) {
        enum Mode { STRINGS, NUMBERS, REGRESSION }

        boolean regression() { return mode == Mode.REGRESSION; }

        static Labels decide(Path train, DataFileOptions o, List<Cell> cells, List<Integer> lines)
                throws MalformedDataException {
            boolean numeric = true, anyFloat = false;
            for (Cell c : cells) {
                numeric &= c.kind() == Kind.INTEGER || c.kind() == Kind.FLOAT;
                anyFloat |= c.kind() == Kind.FLOAT;
            }
            Mode mode = switch (o.taskType()) {
                case REGRESSION -> Mode.REGRESSION;
                case CLASSIFICATION -> numeric ? Mode.NUMBERS : Mode.STRINGS;
                case AUTO -> !numeric ? Mode.STRINGS : anyFloat ? Mode.REGRESSION : Mode.NUMBERS;
            };
            String column = o.labelColumn();
            if (mode == Mode.REGRESSION) return new Labels(mode, List.of(), Map.of(), column);
            List<String> names;
            if (mode == Mode.STRINGS) {
                TreeSet<String> set = new TreeSet<>(CODE_POINT_ORDER);
                for (Cell c : cells) set.add(c.text());
                names = List.copyOf(set);
            } else {
                TreeMap<BigDecimal, String> set = new TreeMap<>();
                for (int i = 0; i < cells.size(); i++) {
                    BigDecimal d = decimal(cells.get(i).text());
                    if (d == null)
                        throw new MalformedDataException(train, lines.get(i), "label '" + cells.get(i).text()
                                + "' in column '" + column + "' is not a number that fits a decimal");
                    set.putIfAbsent(d, numberName(d));
                }
                names = List.copyOf(set.values());
            }
            if (names.size() < 2)
                throw new MalformedDataException(train, 0, "column '" + column + "' has only one distinct label "
                        + names + "; classification needs at least 2");
            Map<String, Integer> ids = new HashMap<>();
            for (int i = 0; i < names.size(); i++) ids.put(names.get(i), i);
            return new Labels(mode, names, ids, column);
        }

        /** The example of a record with label cell {@code c}, its label mapped through the train file's list. */
        Example example(Path file, String a, String b, Cell c, int line) throws MalformedDataException {
            if (mode == Mode.REGRESSION) {
                BigDecimal d = decimal(c.text());
                double s = d == null ? Double.NaN : Double.parseDouble(c.text());
                if (!Double.isFinite(s))
                    throw new MalformedDataException(file, line, "regression target '" + c.text() + "' in column '"
                            + column + "' is not a finite number");
                return Example.regression(a, b, s, line);
            }
            String key = c.text();
            if (mode == Mode.NUMBERS) {
                BigDecimal d = decimal(key);
                key = d == null ? null : numberName(d);
            }
            Integer id = key == null ? null : ids.get(key);
            if (id == null)
                throw new MalformedDataException(file, line, "unknown label '" + c.text() + "' in column '" + column
                        + "'; the train file's labels are " + names);
            return Example.classification(a, b, id, line);
        }
    }

    // ---------------------------------------------------------------- record sources

    /** The records of one data file, in order, with their columns. */
    private abstract static class Records implements Closeable {
        final Path file;
        List<String> columns;
        int line;

        Records(Path file) { this.file = file; }

        Path file() { return file; }

        /** The header (CSV, TSV) or the first object's keys (JSON Lines), in file order. */
        List<String> columns() { return columns; }

        /** Advances to the next record; false at the end of the file. */
        abstract boolean next() throws IOException;

        /** 1-based line where the current record starts. */
        int line() { return line; }

        /** The value of {@code column} in the current record, or null when the record has no such column. */
        abstract Cell cell(String column);

        /** Checks that the file has {@code column}. */
        void require(String column) throws MalformedDataException {
            if (!columns.contains(column))
                throw new MalformedDataException(file, 1, "no column '" + column + "'; the columns are " + show(columns));
        }

        /** The error for a record without {@code column}. */
        abstract MalformedDataException missing(String column);
    }

    private static Records open(Path file, DataFileOptions o) throws IOException {
        Format f = o.formatOf(file);
        return f == Format.JSONL ? new JsonlRecords(file) : new CsvRecords(file, f);
    }

    /** CSV or TSV through commons-csv, RFC 4180 with the format's delimiter; the first record is the header. */
    private static final class CsvRecords extends Records {
        private final Format format;
        private final TsvLineReader in;
        private final CSVParser parser;
        private final Iterator<CSVRecord> records;
        private final Map<String, Integer> index = new HashMap<>();
        private CSVRecord record;

        CsvRecords(Path file, Format format) throws IOException {
            super(file);
            this.format = format;
            this.in = new TsvLineReader(file);
            try {
                this.parser = CSVFormat.RFC4180.builder().setDelimiter(format.delimiter).get().parse(in.reader());
                this.records = parser.iterator();
                readHeader();
            } catch (IOException | RuntimeException e) {
                in.close();
                throw e;
            }
        }

        private void readHeader() throws IOException {
            if (!advance()) throw new MalformedDataException(file, 0, "file is empty; expected a header row");
            columns = record.toList();
            for (int i = 0; i < columns.size(); i++) {
                String c = columns.get(i);
                if (c.isEmpty())
                    throw new MalformedDataException(file, 1, "header " + show(columns) + ": column " + (i + 1)
                            + " has no name");
                if (index.putIfAbsent(c, i) != null)
                    throw new MalformedDataException(file, 1, "header " + show(columns) + ": column '" + c
                            + "' appears twice");
            }
        }

        /** Reads the next record, noting the line it starts on; parser and decoding errors name that line. */
        private boolean advance() throws IOException {
            long before = parser.getCurrentLineNumber();
            line = (int) before + 1;
            try {
                if (!records.hasNext()) return false;
                record = records.next();
                return true;
            } catch (UncheckedIOException e) {
                IOException cause = e.getCause();
                if (cause instanceof CharacterCodingException)
                    throw new MalformedDataException(file, line, "not valid UTF-8");
                throw new MalformedDataException(file, line, "malformed " + format + " record: " + cause.getMessage()
                        + (format == Format.TSV ? " (TSV files are read with RFC 4180 quoting; GLUE's .tsv files,"
                        + " where quotes are text, are read as a GLUE task)" : ""));
            }
        }

        @Override boolean next() throws IOException {
            if (!advance()) return false;
            if (record.size() != columns.size())
                throw new MalformedDataException(file, line, "expected " + columns.size() + " "
                        + (format == Format.TSV ? "tab" : "comma") + "-separated fields " + show(columns)
                        + ", found " + record.size());
            return true;
        }

        @Override Cell cell(String column) {
            Integer i = index.get(column);
            if (i == null) return null;
            String s = record.get(i);
            return new Cell(s, csvKind(s));
        }

        @Override MalformedDataException missing(String column) {
            return new MalformedDataException(file, 1, "no column '" + column + "'; the columns are " + show(columns));
        }

        @Override public void close() throws IOException {
            try (in) { parser.close(); }
        }
    }

    /** JSON Lines: one object per line; its keys are the columns. Duplicate keys are an error. */
    private static final class JsonlRecords extends Records {
        private static final JsonFactory JSON = JsonFactory.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
        private final TsvLineReader in;
        private Map<String, Cell> object;
        private boolean firstPending;

        JsonlRecords(Path file) throws IOException {
            super(file);
            this.in = new TsvLineReader(file);
            try {
                if (!advance()) throw new MalformedDataException(file, 0, "file is empty; expected one JSON object per line");
            } catch (IOException | RuntimeException e) {
                in.close();
                throw e;
            }
            columns = List.copyOf(object.keySet());
            firstPending = true;
        }

        private boolean advance() throws IOException {
            String text = in.readLine();
            if (text == null) return false;
            line = in.lineNumber();
            object = parse(text);
            return true;
        }

        @Override boolean next() throws IOException {
            if (firstPending) { firstPending = false; return true; }
            return advance();
        }

        private Map<String, Cell> parse(String text) throws MalformedDataException {
            if (text.isBlank())
                throw new MalformedDataException(file, line, "blank line; JSON Lines has one object on every line");
            try (JsonParser p = JSON.createParser(text)) {
                JsonToken t = p.nextToken();
                if (t != JsonToken.START_OBJECT)
                    throw new MalformedDataException(file, line, "expected a JSON object, found " + describe(t));
                Map<String, Cell> m = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    m.put(key, cell(p, p.nextToken()));
                }
                if ((t = p.nextToken()) != null)
                    throw new MalformedDataException(file, line, "content after the JSON object: " + describe(t));
                return m;
            } catch (JsonProcessingException e) {
                String why = e.getOriginalMessage();
                int k = why.indexOf(" (start marker at");  // Jackson's pointer into a source it does not show
                throw new MalformedDataException(file, line, "malformed JSON"
                        + (e.getLocation() != null ? " at column " + e.getLocation().getColumnNr() : "") + ": "
                        + (k > 0 ? why.substring(0, k) : why));
            } catch (MalformedDataException e) {
                throw e;
            } catch (IOException e) { // no I/O on a string parser
                throw new UncheckedIOException(e);
            }
        }

        private static Cell cell(JsonParser p, JsonToken t) throws IOException {
            return switch (t) {
                case VALUE_STRING -> new Cell(p.getText(), Kind.STRING);
                case VALUE_NUMBER_INT -> new Cell(p.getText(), Kind.INTEGER);
                case VALUE_NUMBER_FLOAT -> new Cell(p.getText(), Kind.FLOAT);
                case VALUE_TRUE, VALUE_FALSE -> new Cell(p.getText(), Kind.BOOLEAN);
                case VALUE_NULL -> new Cell("null", Kind.NULL);
                case START_OBJECT -> { p.skipChildren(); yield new Cell("object", Kind.OBJECT); }
                case START_ARRAY -> { p.skipChildren(); yield new Cell("array", Kind.ARRAY); }
                default -> throw new IllegalStateException("unexpected JSON token " + t);
            };
        }

        private static String describe(JsonToken t) {
            if (t == null) return "nothing";
            return switch (t) {
                case START_ARRAY -> "an array";
                case VALUE_STRING -> "a string";
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
                case VALUE_TRUE, VALUE_FALSE -> "a boolean";
                case VALUE_NULL -> "null";
                default -> t.toString();
            };
        }

        @Override Cell cell(String column) { return object.get(column); }

        @Override MalformedDataException missing(String column) {
            return new MalformedDataException(file, line, "no column '" + column + "'; this object's keys are "
                    + show(List.copyOf(object.keySet())));
        }

        @Override public void close() throws IOException { in.close(); }
    }

    /** Columns as a readable list: [a | b | c]. */
    private static String show(List<String> columns) {
        return "[" + String.join(" | ", columns) + "]";
    }
}
