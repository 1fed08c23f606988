package io.github.nablagfn.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.nablagfn.core.testing.TwinFixtures;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.examples.train.ModelSource;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Tag;

/** The CLI end to end at toy sizes: files written, exit codes, errors naming the option. */
class NablaCliTest {
  @TempDir Path dir;

  @Tag("slow")
  @Test
  void quickstartWritesTheRunDirectory() throws Exception {
    int code = Nabla.run("quickstart", "--base", TwinFixtures.dir().resolve("unet.safetensors").toString(),
        "--runs-dir", dir.toString(), "--name", "tiny", "--iterations", "2", "--batch", "2", "--steps", "4",
        "--eval-every", "1", "--eval-per-class", "2");
    assertThat(code).isZero();
    Path run = dir.resolve("tiny");
    assertPromisedFiles(run);
    List<String> evals = Files.readAllLines(run.resolve("eval.jsonl"));
    assertThat(evals).hasSize(3); // iterations 0, 1, 2
    ObjectMapper json = new ObjectMapper();
    JsonNode first = json.readTree(evals.get(0));
    assertThat(first.get("fid_to_base").asDouble()).isZero(); // the base against itself
    assertThat(json.readTree(evals.get(2)).get("iteration").asInt()).isEqualTo(2);
    assertThat(Files.readAllLines(run.resolve("metrics.jsonl"))).hasSize(2);
    assertThat(json.readTree(run.resolve("config.json").toFile()).get("iterations").asInt()).isEqualTo(2);
    try (var s = Files.list(run.resolve("checkpoints"))) {
      assertThat(s.filter(p -> p.toString().endsWith(".safetensors")).count()).isPositive();
    }
    assertCsvCopies(run);

    // the adapter a user takes elsewhere: PEFT files, the flow beside them, the base named by its path
    Path adapter = run.resolve("adapter");
    assertThat(adapter.resolve("adapter_model.safetensors")).isNotEmptyFile();
    assertThat(adapter.resolve("flow.safetensors")).isNotEmptyFile();
    JsonNode peft = json.readTree(adapter.resolve("adapter_config.json").toFile());
    assertThat(peft.get("peft_type").asText()).isEqualTo("LORA");
    assertThat(peft.get("r").asInt()).isEqualTo(8);
    assertThat(Path.of(peft.get("base_model_name_or_path").asText()))
        .isEqualTo(TwinFixtures.dir().resolve("unet.safetensors").toAbsolutePath().normalize());
    // a run directory and its adapter directory give the same model; training moved it off the base
    UNet fromRun = ModelSource.load(run, "");
    UNet fromAdapter = ModelSource.load(adapter, "");
    UNet base = ModelSource.load(TwinFixtures.dir().resolve("unet.safetensors"), "");
    double moved = 0;
    for (String k : base.parameters().names()) {
      assertThat(fromRun.parameters().get(k)).as(k).isEqualTo(fromAdapter.parameters().get(k));
      moved = Math.max(moved, fromRun.parameters().get(k).sub(base.parameters().get(k)).amaxNumber().doubleValue());
    }
    assertThat(moved).as("the fine-tuned model differs from its base").isPositive();
    // sample takes the run directory
    Path png = dir.resolve("from-run.png");
    assertThat(Nabla.run("sample", run.toString(), png.toString())).isZero();
    assertThat(javax.imageio.ImageIO.read(png.toFile())).isNotNull();
    // and so does finetune --base: the merged model becomes the new run's base, written beside it
    assertThat(Nabla.run("finetune", "--base", run.toString(), "--runs-dir", dir.toString(), "--name", "second",
        "--objective", "refl", "--reward", "ink", "--iterations", "1", "--batch", "2", "--steps", "4",
        "--eval-every", "1", "--eval-per-class", "2")).isZero();
    UNet secondBase = ModelSource.load(dir.resolve("second").resolve("base.safetensors"), "");
    for (String k : base.parameters().names()) {
      assertThat(secondBase.parameters().get(k)).as(k).isEqualTo(fromRun.parameters().get(k));
    }
    assertThat(json.readTree(dir.resolve("second/adapter/adapter_config.json").toFile())
        .get("base_model_name_or_path").asText()).isEqualTo("../base.safetensors");
    assertThat(ModelSource.load(dir.resolve("second"), "").parameters().names()).isEqualTo(base.parameters().names());
  }

  /** metrics.csv and eval.csv: a header of the JSON Lines keys, in order, and one row per line. */
  private static void assertCsvCopies(Path run) throws Exception {
    ObjectMapper json = new ObjectMapper();
    for (String name : new String[] {"metrics", "eval"}) {
      List<String> jsonl = Files.readAllLines(run.resolve(name + ".jsonl"));
      List<String> csv = Files.readAllLines(run.resolve(name + ".csv"));
      assertThat(csv).as(name + ".csv rows").hasSize(jsonl.size() + 1);
      List<String> keys = new java.util.ArrayList<>();
      json.readTree(jsonl.get(0)).fieldNames().forEachRemaining(keys::add);
      assertThat(csv.get(0)).isEqualTo(String.join(",", keys));
      for (String k : keys) {
        assertThat(k).as("snake_case key").matches("[a-z0-9_]+");
      }
      JsonNode last = json.readTree(jsonl.get(jsonl.size() - 1));
      String[] cells = csv.get(csv.size() - 1).split(",");
      for (int i = 0; i < keys.size(); i++) {
        JsonNode v = last.get(keys.get(i));
        if (v.isNumber()) {
          assertThat(Double.parseDouble(cells[i])).as("%s %s", name, keys.get(i)).isEqualTo(v.asDouble());
        }
      }
    }
  }

  private static void assertPromisedFiles(Path run) throws Exception {
    for (String f : new String[] {"config.json", "metrics.jsonl", "eval.jsonl", "before.png", "after.png",
        "reward.png", "eval-reward.png", "eval-diversity.png", "eval-fid.png"}) {
      assertThat(run.resolve(f)).as(f).isNotEmptyFile();
      if (f.endsWith(".png")) {
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(run.resolve(f).toFile());
        assertThat(img).as("%s decodes", f).isNotNull();
        assertThat(img.getWidth() * img.getHeight()).as(f).isPositive();
      }
    }
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      assertThat(json.readTree(line).get("loss").isNumber()).isTrue();
    }
  }

  /** finetune from a YAML file with a flag overriding it: a reward-backpropagation baseline, tiny. */
  @Tag("slow")
  @Test
  void finetuneReadsAYamlConfigAndFlagsOverrideIt() throws Exception {
    Path config = dir.resolve("run.yaml");
    Files.writeString(config, String.join("\n", "name: yaml-run", "objective: draft-k", "draft-k: 2",
        "reward: ink", "iterations: 5", "batch: 2", "steps: 4", "eval-every: 2",
        "evalPerClass: 2", // a field's camelCase name is read too
        "runs-dir: " + dir, "base: " + TwinFixtures.dir().resolve("unet.safetensors")));
    assertThat(Nabla.run("finetune", "--config", config.toString(), "--iterations", "2")).isZero();
    Path run = dir.resolve("yaml-run");
    assertPromisedFiles(run);
    JsonNode c = new ObjectMapper().readTree(run.resolve("config.json").toFile());
    assertThat(c.get("objective").asText()).isEqualTo("draft-k");
    assertThat(c.get("draft-k").asInt()).isEqualTo(2); // config.json's keys are the flags' names
    assertThat(c.get("iterations").asInt()).isEqualTo(2); // the flag wins
    assertThat(Files.readAllLines(run.resolve("eval.jsonl"))).hasSize(2); // iterations 0 and 2
  }

  /** compare: one run per (method, seed), a summary and plots; a second call redoes nothing. */
  @Tag("slow")
  @Test
  void compareRunsEveryMethodAndSeedOnceAndSummarises() throws Exception {
    String[] args = {"compare", "--methods", "refl,draft-k", "--seeds", "2", "--iterations", "2", "--batch", "2",
        "--steps", "4", "--eval-every", "1", "--eval-per-class", "2", "--reward", "ink", "--runs-dir", dir.toString(),
        "--base", TwinFixtures.dir().resolve("unet.safetensors").toString()};
    assertThat(Nabla.run(args)).isZero();
    Path root = dir.resolve("compare");
    for (String run : new String[] {"refl-seed0", "refl-seed1", "draft-k-seed0", "draft-k-seed1"}) {
      assertThat(root.resolve(run).resolve("DONE")).exists();
      assertThat(Files.readAllLines(root.resolve(run).resolve("eval.jsonl"))).hasSize(3);
    }
    String summary = Files.readString(root.resolve("summary.md"));
    assertThat(summary).contains("| refl |").contains("| draft-k |").contains("| base model |");
    for (String png : new String[] {"reward-vs-iteration.png", "diversity-vs-reward.png", "fid-vs-reward.png"}) {
      assertThat(javax.imageio.ImageIO.read(root.resolve(png).toFile())).as(png).isNotNull();
    }
    long before = Files.getLastModifiedTime(root.resolve("refl-seed0").resolve("eval.jsonl")).toMillis();
    assertThat(Nabla.run(args)).isZero();
    assertThat(Files.getLastModifiedTime(root.resolve("refl-seed0").resolve("eval.jsonl")).toMillis())
        .as("a finished run is not redone").isEqualTo(before);
  }

  /** compare --quick: one seed, a few iterations, a tiny evaluation set; the summary has both tables. */
  @Tag("slow")
  @Test
  void compareQuickIsASmokeRunOfEveryChosenMethod() throws Exception {
    assertThat(Nabla.run("compare", "--quick", "--methods", "residual-nabla-db,draft-k", "--reward", "ink",
        "--runs-dir", dir.toString(), "--name", "quick",
        "--base", TwinFixtures.dir().resolve("unet.safetensors").toString())).isZero();
    Path root = dir.resolve("quick");
    for (String run : new String[] {"residual-nabla-db-seed0", "draft-k-seed0"}) {
      assertThat(root.resolve(run).resolve("DONE")).exists();
      assertThat(Files.readAllLines(root.resolve(run).resolve("eval.jsonl"))).hasSize(3); // iterations 0, 2, 4
      JsonNode c = new ObjectMapper().readTree(root.resolve(run).resolve("config.json").toFile());
      assertThat(c.get("iterations").asInt()).isEqualTo(4);
      assertThat(c.get("eval-per-class").asInt()).isEqualTo(2);
    }
    assertThat(root.resolve("residual-nabla-db-seed1")).doesNotExist();
    String summary = Files.readString(root.resolve("summary.md"));
    assertThat(summary).contains("| residual-nabla-db |").contains("| draft-k |")
        .containsAnyOf("At matched reward", "no matched-reward point");
  }

  @Test
  void aBadSettingsFileExitsWithTwoNamingTheKey() throws Exception {
    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, "{\"objectiv\": \"refl\"}");
    Path wrongType = dir.resolve("wrong.json");
    Files.writeString(wrongType, "{\"batch\": \"many\"}");
    Path jpeg = dir.resolve("jpeg.json");
    Files.writeString(jpeg, "{\"reward\": \"jpeg\", \"objective\": \"refl\"}");
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured));
    try {
      assertThat(Nabla.run("finetune", "--config", bad.toString())).isEqualTo(2);
      assertThat(Nabla.run("finetune", "--config", wrongType.toString())).isEqualTo(2);
      assertThat(Nabla.run("finetune", "--config", jpeg.toString())).isEqualTo(2);
      assertThat(Nabla.run("finetune", "--objective", "magic")).isEqualTo(2);
    } finally {
      System.setErr(err);
    }
    assertThat(captured.toString()).contains("unknown setting 'objectiv'").contains("'batch'")
        .contains("jpeg works with ddpo, dag-db, residual-db only").contains("objective = magic");
  }

  @Test
  void badOptionsExitWithTwoAndNameTheOption() {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured));
    try {
      assertThat(Nabla.run("quickstart", "--batch", "0", "--runs-dir", dir.toString())).isEqualTo(2);
      assertThat(Nabla.run("finetune", "--beta", "abc")).isEqualTo(2);
      assertThat(Nabla.run("quickstart", "--no-such-option")).isEqualTo(2);
      assertThat(Nabla.run("quickstart", "--timestep-fraction", "0", "--runs-dir", dir.toString())).isEqualTo(2);
      assertThat(Nabla.run("quickstart", "--reg-scale", "-1", "--runs-dir", dir.toString())).isEqualTo(2);
      assertThat(Nabla.run("quickstart", "--forward-cap", "0", "--runs-dir", dir.toString())).isEqualTo(2);
      assertThat(Nabla.run("quickstart", "--warmup", "-1", "--runs-dir", dir.toString())).isEqualTo(2);
      assertThat(Nabla.run("quickstart", "--inner-epochs", "0", "--runs-dir", dir.toString())).isEqualTo(2);
      assertThat(Nabla.run("quickstart", "--base", dir.resolve("missing.safetensors").toString(),
          "--runs-dir", dir.toString())).isEqualTo(2);
      assertThat(Nabla.run("evaluate", dir.toString())).isEqualTo(2); // --data missing
      assertThat(Nabla.run("evaluate", dir.toString(), "--data", dir.toString(), "--per-class", "1")).isEqualTo(2);
      assertThat(Nabla.run("sample", dir.resolve("nowhere").toString(), dir.resolve("x.png").toString())).isEqualTo(2);
      assertThat(Nabla.run("pretrain", dir.toString(), dir.toString())).isEqualTo(2); // --iterations missing
      assertThat(Nabla.run("train-reward", dir.toString())).isEqualTo(2); // OUT missing
      assertThat(Nabla.run("bench", "--runs", "0")).isEqualTo(2);
    } finally {
      System.setErr(err);
    }
    assertThat(captured.toString()).contains("batch = 0; expected >= 1").contains("--no-such-option")
        .contains("--beta").contains("timestepFraction = 0.0; expected in (0, 1]")
        .contains("regScale = -1.0; expected a finite value >= 0")
        .contains("forwardCap = 0.0; expected a value > 0")
        .contains("warmup = -1; expected >= 0")
        .contains("innerEpochs = 0; expected >= 1")
        .contains("missing.safetensors")
        .contains("Missing required option: '--data=DIR'").contains("--per-class = 1; expected >= 2")
        .contains("nowhere does not exist; expected a weights file")
        .contains("Missing required option: '--iterations=<iterations>'")
        .contains("Missing required parameter: 'OUT.safetensors'").contains("--runs = 0");
  }

  /** A run directory another run writes is refused before anything is written: exit 2, the lock named. */
  @Test
  void aRunDirectoryInUseIsRefusedWithExitTwoNamingTheLock() throws Exception {
    Path run = dir.resolve("busy");
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try (io.github.nablagfn.core.io.RunLock held = io.github.nablagfn.core.io.RunLock.acquire(run)) {
      System.setErr(new PrintStream(captured));
      assertThat(Nabla.run("finetune", "--runs-dir", dir.toString(), "--name", "busy", "--iterations", "1"))
          .isEqualTo(2);
    } finally {
      System.setErr(err);
    }
    assertThat(captured.toString()).contains(run.resolve("nabla.lock").toString()).contains("already held");
    try (var files = Files.list(run)) {
      assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("nabla.lock");
    }
  }

  /** The README's list of commands is the CLI's (help aside). */
  @Test
  void theReadmeListsExactlyTheCommands() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("`bin/nabla --help` lists the commands \\(([^)]*)\\)").matcher(readme.replace("\n", " "));
    assertThat(m.find()).as("README sentence listing the commands").isTrue();
    java.util.Set<String> listed = new java.util.TreeSet<>();
    java.util.regex.Matcher name = java.util.regex.Pattern.compile("`([a-z-]+)`").matcher(m.group(1));
    while (name.find()) {
      listed.add(name.group(1));
    }
    java.util.Set<String> commands = new java.util.TreeSet<>(new picocli.CommandLine(new Nabla()).getSubcommands().keySet());
    commands.remove("help");
    assertThat(listed).isEqualTo(commands);
  }

  @Test
  void everySubcommandHasHelp() {
    for (String c : new String[] {"quickstart", "finetune", "compare", "evaluate", "pretrain", "train-reward", "sample", "bench"}) {
      assertThat(Nabla.run(c, "--help")).as(c).isZero();
    }
  }
}
