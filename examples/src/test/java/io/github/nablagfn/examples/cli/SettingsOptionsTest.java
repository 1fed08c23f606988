package io.github.nablagfn.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/** One declaration per setting: the field makes the option, the file key and the help's default. */
class SettingsOptionsTest {
  @TempDir Path dir;

  private static CommandLine command(String name) {
    return new CommandLine(new Nabla()).getSubcommands().get(name);
  }

  @Test
  void everySettingIsAnOptionOfEveryRunCommandWithThatCommandsDefault() throws Exception {
    for (String name : new String[] {"finetune", "quickstart", "compare"}) {
      CommandSpec spec = command(name).getCommandSpec();
      RunSettings defaults = switch (name) {
        case "quickstart" -> new Quickstart().defaults();
        case "compare" -> new Compare().defaults();
        default -> new Finetune().defaults();
      };
      for (Field f : SettingsOptions.fields()) {
        OptionSpec o = spec.findOption(SettingsOptions.flag(f));
        assertThat(o).as("%s %s", name, SettingsOptions.flag(f)).isNotNull();
        Object value = f.get(defaults);
        if (value != null) {
          assertThat(String.join(" ", o.description())).as("%s %s", name, f.getName())
              .endsWith("(default: " + value + ")");
        }
      }
    }
    assertThat(SettingsOptions.fields()).hasSize(RunSettings.class.getFields().length);
    assertThat(String.join(" ", command("quickstart").getCommandSpec().findOption("--beta").description()))
        .endsWith("(default: 30.0)");
    assertThat(String.join(" ", command("finetune").getCommandSpec().findOption("--beta").description()))
        .endsWith("(default: 100.0)");
  }

  @Test
  void flagsOverTheFileOverTheDefaultsWhoseObjectStaysUntouched() throws Exception {
    Path file = dir.resolve("run.yaml");
    Files.writeString(file, "flow-lr: 0.005\ninnerEpochs: 3\nbeta: 7\n");
    ParseResult parsed = new CommandLine(new Nabla()).parseArgs("quickstart", "--config", file.toString(), "--beta",
        "9", "--forward-cap", "2.5").subcommand();
    RunSettings defaults = new Quickstart().defaults();
    RunSettings s = SettingsOptions.resolve(parsed, defaults);
    assertThat(s.flowLr).isEqualTo(0.005); // kebab key
    assertThat(s.innerEpochs).isEqualTo(3); // camelCase key
    assertThat(s.beta).isEqualTo(9); // the flag wins over the file
    assertThat(s.forwardCap).isEqualTo(2.5);
    assertThat(s.lr).isEqualTo(2e-3); // quickstart's default kept
    assertThat(defaults.beta).isEqualTo(30);
    assertThat(RunSettings.read(file, new Finetune().defaults()).toJson().get("flow-lr").asDouble()).isEqualTo(0.005);
  }

  @Test
  void fileMistakesAreNamedAsTheFileWroteThem() throws Exception {
    Path twice = dir.resolve("twice.json");
    Files.writeString(twice, "{\"flow-lr\": 1e-3, \"flowLr\": 2e-3}");
    assertThatThrownBy(() -> RunSettings.read(twice, new RunSettings())).hasMessageContaining("'flowLr'")
        .hasMessageContaining("given twice").hasMessageContaining("'flow-lr'");
    Path unknown = dir.resolve("unknown.json");
    Files.writeString(unknown, "{\"flow-rate\": 1e-3}");
    assertThatThrownBy(() -> RunSettings.read(unknown, new RunSettings())).hasMessageContaining("'flow-rate'")
        .hasMessageContaining("flow-lr").hasMessageContaining("eval-per-class");
    Path wrong = dir.resolve("wrong.yaml");
    Files.writeString(wrong, "eval-every: often\n");
    assertThatThrownBy(() -> RunSettings.read(wrong, new RunSettings())).hasMessageContaining("'eval-every'")
        .hasMessageContaining("wrong value");
    Path list = dir.resolve("list.yaml");
    Files.writeString(list, "- beta\n");
    assertThatThrownBy(() -> RunSettings.read(list, new RunSettings())).hasMessageContaining("a map of settings");
  }
}
