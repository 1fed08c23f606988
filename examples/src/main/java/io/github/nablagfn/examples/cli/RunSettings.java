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
 * The settings of a fine-tuning run, from a JSON or YAML file and/or flags, with defaults. Field names are
 * the file's keys and, in kebab case, the flags'. {@link #validate()} names the field, its value and what
 * is allowed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class RunSettings {
  static final List<String> OBJECTIVES = List.of("residual-nabla-db", "nabla-db", "refl", "draft-k", "draft-lv",
      "alignprop", "ddpo");
  static final List<String> REWARDS = List.of("classifier", "aesthetic", "ink", "symmetry", "jpeg");
  static final List<String> SAMPLERS = List.of("ddim", "ddpm", "sde-dpmpp");

  public String name = "run";
  public String runsDir = "runs";
  public String base; // null: the shipped MNIST model
  public String objective = "residual-nabla-db";
  public String reward = "classifier";
  public double beta = 100;
  public int loraRank = 8; // 0: fine-tune every weight
  public String loraTargets = "attention"; // or "all": every Linear and Conv2d weight
  public String sampler = "ddim";
  public double eta = 1.0;
  public int steps = 50;
  public int batch = 8;
  public long seed = 0;
  public int iterations = 40;
  public double lr = 1e-3;
  public double flowLr = 1e-3;
  public int warmup = 0; // iterations of linear policy learning-rate warm-up from 0 (0: constant lr)
  public double timestepFraction = 0.1; // ∇-DB family: fraction of the steps trained per trajectory
  public double regScale = 0; // ∇-DB family: λ of the prior regulariser λ‖ε_θ − ε_old‖²
  public Double forwardCap; // ∇-DB family: κ of ForwardWeighting.capped(κ); null = score units (the paper's)
  public int innerEpochs = 1; // ∇-DB family and DDPO: optimizer updates per sampled batch
  public int draftK = 1;
  public int draftLvCopies = 2;
  public int reflLateSteps = 10;
  public double ddpoClip = 1e-4;
  public int evalEvery = 10;
  public int evalPerClass = 4;

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
    mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    try {
      RunSettings copy = mapper.convertValue(mapper.valueToTree(base), RunSettings.class);
      return mapper.readerForUpdating(copy).readValue(file.toFile());
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException(file + ": unknown setting '" + e.getPropertyName() + "'; known: "
          + e.getKnownPropertyIds(), e);
    } catch (JsonMappingException e) {
      String field = e.getPath().isEmpty() ? "?" : e.getPath().get(e.getPath().size() - 1).getFieldName();
      throw new IllegalArgumentException(file + ": setting '" + field + "' has a wrong value: "
          + e.getOriginalMessage(), e);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": not valid " + (mapper.getFactory() instanceof YAMLFactory ? "YAML"
          : "JSON") + ": " + e.getOriginalMessage(), e);
    }
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
    require(!reward.equals("jpeg") || objective.equals("ddpo"), "reward", reward,
        "a differentiable reward for " + objective + " (jpeg works with ddpo only)");
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
