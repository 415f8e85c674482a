package org.varitune.experiments.cli;

import org.varitune.transformer.layers.Pooling;
import org.varitune.metrics.Variant;
import org.varitune.training.TuningMode;
import org.varitune.training.PrefixCachePolicy;
import org.varitune.transformer.io.Spelled;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code varitune} command line; started by the {@code ./varitune} launcher at the repository root. */
@Command(name = "varitune", mixinStandardHelpOptions = true, version = "varitune 0.1.0",
        description = "Variability-guided layer selection for transfer learning with pretrained encoders.",
        subcommands = {DemoCommand.class, ModelsCommand.class, EncodeCommand.class, AnalyzeCommand.class, TrainCommand.class, PredictCommand.class,
                SweepCommand.class, ReportCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override public void run() { spec.commandLine().usage(System.err); }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, also used by tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // Errors are exceptions with a message that names the file/key; show it without a stack trace
            // unless VARITUNE_DEBUG is set.
            cmd.getErr().println("error: " + ex.getMessage());
            if (System.getenv("VARITUNE_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return 2;
        });
        cl.registerConverter(Double.class, Main::finiteDouble);
        cl.registerConverter(Double.TYPE, Main::finiteDouble);
        cl.registerConverter(Float.class, v -> (float) finiteDouble(v));
        cl.registerConverter(Float.TYPE, v -> (float) finiteDouble(v));
        spelled(cl, Pooling.class);
        spelled(cl, Variant.class);
        spelled(cl, TuningMode.class);
        spelled(cl, PrefixCachePolicy.class);
        spelled(cl, org.varitune.experiments.data.DataFileOptions.TaskType.class);
        CommandLine train = cl.getSubcommands().get("train");             // the tuning methods' own options
        ((TrainCommand) train.getCommand()).addMethodOptions(train.getCommandSpec());
        return cl;
    }

    /**
     * Every floating-point option on every subcommand: a finite decimal number. NaN, infinities and Java literal
     * forms ({@code 0x1p-3}, {@code 1e-3f}) are errors naming the value; picocli's default converter would pass NaN on,
     * and a NaN learning rate used to be taken for "unset" and silently replaced by the default.
     */
    static double finiteDouble(String v) {
        if (!v.strip().matches("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?")) {
            throw new CommandLine.TypeConversionException("'" + v + "' is not a finite decimal number");
        }
        double d = Double.parseDouble(v.strip());
        if (!Double.isFinite(d)) throw new CommandLine.TypeConversionException("'" + v + "' overflows a double");
        return d;
    }

    /** An out-of-range option value: an error naming the option, the value and the allowed range. */
    static void requireFlag(boolean ok, String option, Object value, String range) {
        if (!ok) throw new IllegalArgumentException(option + " " + value + " must be " + range);
    }

    /**
     * Every option of this type, on every subcommand, reads the value's {@link Spelled spelling} (an old spelling is an
     * error with a hint); {@code --help} lists the spellings through {@code ${COMPLETION-CANDIDATES}} (the enums'
     * {@code toString()}).
     */
    private static <E extends Enum<E> & Spelled> void spelled(CommandLine cl, Class<E> type) {
        cl.registerConverter(type, v -> {
            try {
                return Spelled.parse(type, v, "");
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        });
    }
}
