package io.github.nablagfn.examples.cli;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The run settings as command-line options, made from {@link RunSettings}' {@link RunSettings.Setting} fields:
 * one option per field ({@code --} and the field name in kebab case), typed as the field, its help the
 * field's text and the subcommand's own default. {@code --config FILE} reads a settings file over the
 * subcommand's defaults; every given flag overrides both.
 */
final class SettingsOptions {
  static final String CONFIG = "--config";

  private SettingsOptions() {}

  /** The fields that are settings, in declaration order. */
  static List<Field> fields() {
    List<Field> out = new ArrayList<>();
    for (Field f : RunSettings.class.getDeclaredFields()) {
      if (f.isAnnotationPresent(RunSettings.Setting.class) && !Modifier.isStatic(f.getModifiers())) {
        out.add(f);
      }
    }
    return out;
  }

  /** The flag of a setting: {@code --} and the field name in kebab case. */
  static String flag(Field f) {
    return "--" + f.getName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
  }

  /** Adds {@code --config} and one option per setting to {@code spec}, the help naming {@code defaults}' values. */
  static CommandSpec addTo(CommandSpec spec, RunSettings defaults) {
    spec.addOption(OptionSpec.builder(CONFIG).type(Path.class).paramLabel("FILE")
        .description("Settings file (.json, .yaml or .yml; its keys are the flags' names without the dashes, "
            + "e.g. flow-lr: 0.001) read over this command's defaults; flags override it").build());
    for (Field f : fields()) {
      Object value = get(f, defaults);
      String help = f.getAnnotation(RunSettings.Setting.class).value()
          + (value == null ? "" : " (default: " + value + ")");
      Class<?> type = f.getType();
      String label = type == String.class ? "TEXT" : type == double.class || type == Double.class ? "X" : "N";
      spec.addOption(OptionSpec.builder(flag(f)).type(type).paramLabel(label)
          .description(help).build());
    }
    return spec;
  }

  /**
   * The settings of a parsed command: {@code defaults}, then the {@code --config} file's keys over them, then
   * every flag given, validated. {@code defaults} itself is not changed.
   */
  static RunSettings resolve(ParseResult parsed, RunSettings defaults) throws IOException {
    Path config = parsed.matchedOptionValue(CONFIG, null);
    RunSettings s = config != null ? RunSettings.read(config, defaults) : RunSettings.copy(defaults);
    for (Field f : fields()) {
      if (parsed.hasMatchedOption(flag(f))) {
        set(f, s, parsed.matchedOptionValue(flag(f), null));
      }
    }
    return s.validate();
  }

  private static Object get(Field f, RunSettings s) {
    try {
      return f.get(s);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("setting " + f.getName() + " is not public", e);
    }
  }

  private static void set(Field f, RunSettings s, Object value) {
    try {
      f.set(s, value);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("setting " + f.getName() + " is not public", e);
    }
  }
}
