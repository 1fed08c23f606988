package io.github.nablagfn.examples.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that takes the run settings: its options are made from {@link RunSettings}' fields with this
 * command's {@link #defaults()} ({@link Options}, its model transformer), and {@link #settings()} resolves
 * them after parsing.
 */
abstract class SettingsCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  /** This command's defaults: a new {@link RunSettings} with the command's own choices. */
  abstract RunSettings defaults();

  /** The defaults, the {@code --config} file over them, then the flags given; validated. */
  RunSettings settings() throws IOException {
    return settings(defaults());
  }

  /** As {@link #settings()}, over other defaults (compare's {@code --quick} ones). */
  RunSettings settings(RunSettings defaults) throws IOException {
    return SettingsOptions.resolve(spec.commandLine().getParseResult(), defaults);
  }

  /** Adds the settings' options to a {@link SettingsCommand}'s spec with its defaults, before parsing. */
  static final class Options implements IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
      return SettingsOptions.addTo(spec, ((SettingsCommand) spec.userObject()).defaults());
    }
  }
}
