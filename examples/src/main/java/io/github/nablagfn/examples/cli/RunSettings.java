package io.github.nablagfn.examples.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The settings of a fine-tuning run, from a JSON or YAML file and/or flags, with defaults. Each setting is
 * declared once, as a field marked {@link Setting}: the field's name is the file's key and, in kebab case,
 * the flag; its initial value is the default (a subcommand such as quickstart changes some on its own copy).
 * {@link #validate()} names the field, its value and what is allowed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class RunSettings {
  static final List<String> OBJECTIVES = List.of("residual-nabla-db", "nabla-db", "forward-only", "dag-db",
      "residual-db", "refl", "draft-k", "draft-lv", "alignprop", "ddpo");
  /** The objectives that need only reward values (so take the non-differentiable jpeg reward). */
  static final List<String> VALUE_ONLY = List.of("ddpo", "dag-db", "residual-db");
  static final List<String> REWARDS = List.of("classifier", "aesthetic", "ink", "symmetry", "jpeg");
  static final List<String> SAMPLERS = List.of("ddim", "ddpm", "sde-dpmpp");

  @Setting("Run name: results go to <runs-dir>/<name>/")
  public String name = "run";
  @Setting("Directory of the runs")
  public String runsDir = "runs";
  @Setting("Base model: a weights file, an adapter directory or a run directory (none: the shipped MNIST model)")
  public String base;
  @Setting("residual-nabla-db, nabla-db, forward-only (Residual ∇-DB without a flow network), dag-db, "
      + "residual-db, refl, draft-k, draft-lv, alignprop, ddpo")
  public String objective = "residual-nabla-db";
  @Setting("classifier (log p(c|x)), aesthetic, ink, symmetry, jpeg (ddpo, dag-db and residual-db only)")
  public String reward = "classifier";
  @Setting("Reward scale β")
  public double beta = 100;
  @Setting("LoRA rank; 0 = fine-tune every weight")
  public int loraRank = 8;
  @Setting("attention (the q/k/v and output projections) or all (every Linear and Conv2d weight)")
  public String loraTargets = "attention";
  @Setting("ddim, ddpm, sde-dpmpp")
  public String sampler = "ddim";
  @Setting("DDIM stochasticity η, in (0, 1]")
  public double eta = 1.0;
  @Setting("Sampling steps")
  public int steps = 50;
  @Setting("Trajectories per iteration")
  public int batch = 8;
  @Setting("Seed of every random draw of the run")
  public long seed = 0;
  @Setting("Fine-tuning iterations")
  public int iterations = 40;
  @Setting("Policy learning rate")
  public double lr = 1e-3;
  @Setting("Flow learning rate")
  public double flowLr = 1e-3;
  @Setting("Iterations over which the policy learning rate rises linearly from 0 to --lr (0: constant; the "
      + "flow's rate is constant)")
  public int warmup = 0;
  @Setting("∇-DB and DB families: fraction of each trajectory's steps trained per iteration, in (0, 1] (the final step "
      + "is always included)")
  public double timestepFraction = 0.1;
  @Setting("∇-DB family: λ of the regulariser λ‖ε_θ − ε_old‖² toward the outputs recorded while sampling; it "
      + "acts from the second update of a batch on (--inner-epochs)")
  public double regScale = 0;
  @Setting("∇-DB family: κ > 0 weighs each transition's forward residual by min(1, κ²/s²), s = |m_o|/σ² its "
      + "step's sensitivity to the network output, so the last steps stop drowning out the others (unset: the "
      + "paper's score units)")
  public Double forwardCap;
  @Setting("∇-DB family and DDPO: optimizer updates per sampled batch of trajectories; each ∇-DB update after "
      + "the first draws other transitions of the same trajectories and is the one --reg-scale acts on")
  public int innerEpochs = 1;
  @Setting("Steps DRaFT-K backpropagates through")
  public int draftK = 1;
  @Setting("DRaFT-LV re-noised copies")
  public int draftLvCopies = 2;
  @Setting("ReFL draws t among the last N steps")
  public int reflLateSteps = 10;
  @Setting("DDPO clip range")
  public double ddpoClip = 1e-4;
  @Setting("Evaluate every N iterations")
  public int evalEvery = 10;
  @Setting("Evaluation samples per class")
  public int evalPerClass = 4;

  /**
   * Marks a field as a setting, with its help text. {@link SettingsOptions} makes a command-line option of
   * every such field ({@code --} and the field name in kebab case), so a setting is declared here once: the
   * field (the settings file's key), its default and its help.
   */
  @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
  @java.lang.annotation.Target(java.lang.annotation.ElementType.FIELD)
  @interface Setting {
    String value();
  }

  /** A copy of {@code s}, field by field. */
  static RunSettings copy(RunSettings s) {
    ObjectMapper json = new ObjectMapper();
    return json.convertValue(json.valueToTree(s), RunSettings.class);
  }

  /** Reads a .json, .yaml or .yml file over the defaults; an unknown key or a wrong type is an error naming it. */
  static RunSettings read(Path file) throws IOException {
    return read(file, new RunSettings());
  }

  /**
   * Reads a settings file over {@code base} (a subcommand's own defaults, such as quickstart's): the keys
   * the file sets replace base's values, the others keep them. {@code base} itself is not changed.
   */
  static RunSettings read(Path file, RunSettings base) throws IOException {
    String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    ObjectMapper mapper = name.endsWith(".yaml") || name.endsWith(".yml") ? new ObjectMapper(new YAMLFactory())
        : new ObjectMapper();
    try {
      return apply(mapper, mapper.readTree(file.toFile()), base, file.toString());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": not valid " + (mapper.getFactory() instanceof YAMLFactory ? "YAML"
          : "JSON") + ": " + e.getOriginalMessage(), e);
    }
  }

  /**
   * {@code base} with the settings {@code values} (keys as in a settings file, values as written on the command
   * line: {@code lr -> 3e-4}); {@code source} names where they come from in messages. {@code base} is not changed.
   */
  static RunSettings withValues(RunSettings base, java.util.Map<String, String> values, String source) {
    ObjectMapper mapper = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode tree = mapper.createObjectNode();
    values.forEach(tree::put);
    try {
      return apply(mapper, tree, base, source);
    } catch (IOException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  private static RunSettings apply(ObjectMapper mapper, com.fasterxml.jackson.databind.JsonNode tree, RunSettings base,
      String source) throws IOException {
    mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    java.util.Map<String, String> given = new java.util.HashMap<>(); // field name -> the key the source wrote
    try {
      if (tree == null || tree.isMissingNode() || tree.isNull()) {
        return copy(base); // an empty file sets nothing
      }
      if (!tree.isObject()) {
        throw new IllegalArgumentException(source + ": expected a map of settings (key: value), found "
            + tree.getNodeType());
      }
      com.fasterxml.jackson.databind.node.ObjectNode fields = mapper.createObjectNode();
      for (var it = tree.fields(); it.hasNext(); ) {
        var e = it.next();
        String field = fieldName(e.getKey());
        String before = given.put(field, e.getKey());
        if (before != null) {
          throw new IllegalArgumentException(source + ": setting '" + e.getKey() + "' is given twice (as '" + before
              + "' too)");
        }
        fields.set(field, e.getValue());
      }
      RunSettings copy = copy(base);
      return mapper.readerForUpdating(copy).readValue(fields);
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException(source + ": unknown setting '" + given.getOrDefault(e.getPropertyName(),
          e.getPropertyName()) + "'; known: " + keys(), e);
    } catch (JsonMappingException e) {
      String field = e.getPath().isEmpty() ? "?" : e.getPath().get(e.getPath().size() - 1).getFieldName();
      throw new IllegalArgumentException(source + ": setting '" + given.getOrDefault(field, field)
          + "' has a wrong value: " + e.getOriginalMessage(), e);
    }
  }

  /** A file's key as a field name: the flag's name without its dashes ({@code flow-lr}) or the field's ({@code flowLr}). */
  static String fieldName(String key) {
    StringBuilder sb = new StringBuilder();
    boolean upper = false;
    for (char ch : key.toCharArray()) {
      if (ch == '-') {
        upper = true;
      } else {
        sb.append(upper ? Character.toUpperCase(ch) : ch);
        upper = false;
      }
    }
    return sb.toString();
  }

  /** The keys a settings file can use (the flags' names without dashes), in declaration order. */
  static List<String> keys() {
    return SettingsOptions.fields().stream().map(f -> SettingsOptions.flag(f).substring(2)).toList();
  }

  /** The settings as a JSON object whose keys are the flags' names without dashes (what {@link #read} reads). */
  com.fasterxml.jackson.databind.node.ObjectNode toJson() {
    ObjectMapper json = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode camel = json.valueToTree(this);
    com.fasterxml.jackson.databind.node.ObjectNode out = json.createObjectNode();
    for (java.lang.reflect.Field f : SettingsOptions.fields()) {
      if (camel.has(f.getName())) {
        out.set(SettingsOptions.flag(f).substring(2), camel.get(f.getName()));
      }
    }
    return out;
  }

  RunSettings validate() {
    // a file can set any of these to null (found by SettingsFuzzTest)
    require(name != null, "name", null, "a plain directory name");
    require(runsDir != null, "runsDir", null, "a directory");
    require(objective != null, "objective", null, "one of " + OBJECTIVES);
    require(reward != null, "reward", null, "one of " + REWARDS);
    require(sampler != null, "sampler", null, "one of " + SAMPLERS);
    require(plainName(name), "name", name,
        "a plain directory name (no /, \\ or :, not . or .., no control characters, at most 255 bytes)");
    require(OBJECTIVES.contains(objective), "objective", objective, "one of " + OBJECTIVES);
    require(REWARDS.contains(reward), "reward", reward, "one of " + REWARDS);
    require(!reward.equals("jpeg") || VALUE_ONLY.contains(objective), "reward", reward,
        "a differentiable reward for " + objective + " (jpeg works with " + String.join(", ", VALUE_ONLY) + " only)");
    require(SAMPLERS.contains(sampler), "sampler", sampler, "one of " + SAMPLERS);
    require(beta >= 0 && Double.isFinite(beta), "beta", beta, "a finite value >= 0");
    require(eta > 0 && eta <= 1, "eta", eta, "in (0, 1] (the objectives need a stochastic sampler)");
    require(loraRank >= 0, "loraRank", loraRank, ">= 0 (0 = full fine-tuning)");
    require("attention".equals(loraTargets) || "all".equals(loraTargets), "loraTargets", loraTargets,
        "attention (the q/k/v and output projections) or all (every Linear and Conv2d weight)");
    require(steps >= 2 && steps <= 500, "steps", steps, "in 2..500");
    require(batch >= 1, "batch", batch, ">= 1");
    require(iterations >= 1, "iterations", iterations, ">= 1");
    require(lr > 0 && Double.isFinite(lr), "lr", lr, "a finite value > 0");
    require(flowLr > 0 && Double.isFinite(flowLr), "flowLr", flowLr, "a finite value > 0");
    require(warmup >= 0, "warmup", warmup, ">= 0 (iterations of policy learning-rate warm-up; 0 = none)");
    require(timestepFraction > 0 && timestepFraction <= 1, "timestepFraction", timestepFraction, "in (0, 1]");
    require(regScale >= 0 && Double.isFinite(regScale), "regScale", regScale, "a finite value >= 0");
    require(forwardCap == null || forwardCap > 0, "forwardCap", forwardCap,
        "a value > 0 (or no value: the residual in score units)");
    require(innerEpochs >= 1, "innerEpochs", innerEpochs, ">= 1 (optimizer updates per sampled batch)");
    require(draftK >= 1, "draftK", draftK, ">= 1");
    require(draftLvCopies >= 1, "draftLvCopies", draftLvCopies, ">= 1");
    require(reflLateSteps >= 1, "reflLateSteps", reflLateSteps, ">= 1");
    require(ddpoClip > 0 && Double.isFinite(ddpoClip), "ddpoClip", ddpoClip, "a finite value > 0");
    require(evalEvery >= 1, "evalEvery", evalEvery, ">= 1");
    require(evalPerClass >= 2, "evalPerClass", evalPerClass, ">= 2 (diversity needs pairs)");
    return this;
  }

  /** A single path element that stays inside the runs directory on every platform. */
  static boolean plainName(String name) {
    if (name.isBlank() || name.equals(".") || name.equals("..") || name.contains("/") || name.contains("\\")
        || name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 255) {
      return false;
    }
    return name.chars().noneMatch(c -> c < 0x20 || c == 0x7f || c == ':'); // ':' names a drive on Windows
  }

  private static void require(boolean ok, String field, Object value, String expected) {
    if (!ok) {
      throw new IllegalArgumentException(field + " = " + value + "; expected " + expected);
    }
  }
}
