package io.github.nablagfn.diffusion.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.nablagfn.core.io.AtomicFiles;
import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.runtime.Rng;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * LoRA adapters in the directory layout of Hugging Face PEFT, so that a fine-tuned model can be taken to
 * other tools: {@code adapter_model.safetensors} and {@code adapter_config.json}.
 *
 * <p>Tensor names follow PEFT: the adapter of weight {@code <module>.weight} is stored as
 * {@code base_model.model.<module>.lora_A.weight} (shape (r, in) for a Linear layer, (r, in, kh, kw) for a
 * Conv2d) and {@code base_model.model.<module>.lora_B.weight} ((out, r), or (out, r, 1, 1)); the update is
 * (lora_alpha / r)·B·A, as in {@link LoraDenoiser}. The module names are this library's parameter names
 * (which are those of the PyTorch reference U-Net, module for module). The config carries {@code peft_type},
 * {@code r}, {@code lora_alpha}, {@code target_modules}, {@code base_model_name_or_path} and PEFT's other
 * keys at the values that describe these adapters (no dropout, no bias, no rsLoRA); the safetensors
 * metadata may carry more (for example the SHA-256 of the base weights), under keys of the caller's choice.
 */
public final class PeftAdapters {
  /** The adapter weights' file name in an adapter directory. */
  public static final String WEIGHTS_FILE = "adapter_model.safetensors";
  /** The adapter configuration's file name in an adapter directory. */
  public static final String CONFIG_FILE = "adapter_config.json";
  private static final String PREFIX = "base_model.model.";
  private static final String WEIGHT = ".weight";

  private PeftAdapters() {}

  /** What {@code adapter_config.json} says: the LoRA settings and the base model reference. */
  public record Config(LoraConfig lora, String baseModel) {}

  /** Whether {@code dir} is an adapter directory (holds {@code adapter_config.json}). */
  public static boolean isAdapterDir(Path dir) {
    return Files.isRegularFile(dir.resolve(CONFIG_FILE));
  }

  /**
   * Writes the adapters of {@code model} to {@code dir} (created if missing), each file replaced
   * atomically.
   *
   * @param baseModel what {@code base_model_name_or_path} records: a path or a name the reader can resolve
   * @param metadata extra safetensors metadata (may be empty)
   * @throws IllegalArgumentException if a LoRA target is not a weight named {@code <module>.weight}
   */
  public static void save(LoraDenoiser model, Path dir, String baseModel, Map<String, String> metadata)
      throws IOException {
    LoraConfig config = model.config();
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    ArrayNode modules = JSON.createArrayNode();
    for (String target : config.targets()) {
      String module = moduleOf(target);
      long[] shape = model.base().parameters().get(target).shape();
      INDArray a = model.parameters().get(target + ".lora_A");
      INDArray b = model.parameters().get(target + ".lora_B");
      tensors.put(PREFIX + module + ".lora_A" + WEIGHT, a.reshape(peftShapeOfA(shape, config.rank())).dup());
      tensors.put(PREFIX + module + ".lora_B" + WEIGHT, b.reshape(peftShapeOfB(shape, config.rank())).dup());
      modules.add(module);
    }
    ObjectNode c = JSON.createObjectNode();
    c.put("peft_type", "LORA");
    c.putNull("task_type");
    c.put("base_model_name_or_path", baseModel);
    c.put("r", config.rank());
    if (config.alpha() == Math.rint(config.alpha()) && Math.abs(config.alpha()) < 1e9) {
      c.put("lora_alpha", (long) config.alpha());
    } else {
      c.put("lora_alpha", config.alpha());
    }
    c.set("target_modules", modules);
    c.put("lora_dropout", 0.0);
    c.put("bias", "none");
    c.put("fan_in_fan_out", false);
    c.put("use_rslora", false);
    c.put("use_dora", false);
    if (config.init() == LoraConfig.Init.GAUSSIAN) {
      c.put("init_lora_weights", "gaussian");
    } else {
      c.put("init_lora_weights", true);
    }
    c.putNull("modules_to_save");
    c.put("inference_mode", true);
    Files.createDirectories(dir);
    AtomicFiles.write(dir.resolve(WEIGHTS_FILE), Safetensors.encode(tensors, metadata));
    AtomicFiles.write(dir.resolve(CONFIG_FILE),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c).getBytes(StandardCharsets.UTF_8));
  }

  /** Reads and checks {@code adapter_config.json} of {@code dir}. */
  public static Config readConfig(Path dir) throws IOException {
    Path file = dir.resolve(CONFIG_FILE);
    if (!Files.isRegularFile(file)) {
      throw new IOException(dir + " is not an adapter directory: " + CONFIG_FILE + " is missing");
    }
    JsonNode c;
    try {
      c = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException(file + ": not valid JSON (" + e.getMessage() + ")", e);
    }
    if (c == null || !c.isObject()) {
      throw new IOException(file + ": expected a JSON object");
    }
    if (!"LORA".equals(c.path("peft_type").asText())) {
      throw new IOException(file + ": peft_type = " + c.path("peft_type") + "; expected \"LORA\"");
    }
    if (!c.path("r").canConvertToInt() || c.path("r").asInt() < 1) {
      throw new IOException(file + ": r = " + c.path("r") + "; expected an integer >= 1");
    }
    if (!c.path("lora_alpha").isNumber() || !(c.path("lora_alpha").asDouble() > 0)) {
      throw new IOException(file + ": lora_alpha = " + c.path("lora_alpha") + "; expected a number > 0");
    }
    for (String off : List.of("use_rslora", "use_dora", "fan_in_fan_out")) {
      if (c.path(off).asBoolean(false)) {
        throw new IOException(file + ": " + off + " = true; these adapters are plain LoRA (expected false)");
      }
    }
    JsonNode modules = c.path("target_modules");
    if (!modules.isArray() || modules.isEmpty()) {
      throw new IOException(file + ": target_modules = " + modules
          + "; expected a non-empty list of module names (a regular expression is not supported)");
    }
    List<String> targets = new ArrayList<>();
    for (JsonNode m : modules) {
      if (!m.isTextual() || m.asText().isEmpty()) {
        throw new IOException(file + ": target_modules holds " + m + "; expected module names");
      }
      targets.add(m.asText() + WEIGHT);
    }
    LoraConfig.Init init = "gaussian".equals(c.path("init_lora_weights").asText())
        ? LoraConfig.Init.GAUSSIAN : LoraConfig.Init.KAIMING_UNIFORM;
    String base = c.path("base_model_name_or_path").isTextual() ? c.path("base_model_name_or_path").asText() : null;
    return new Config(new LoraConfig(c.path("r").asInt(), c.path("lora_alpha").asDouble(), targets, init), base);
  }

  /**
   * The denoiser {@code base} with the adapters of {@code dir}: every target module must be a weight of
   * {@code base}, and the file must hold exactly the A and B tensors of each, in PEFT's shapes.
   */
  public static LoraDenoiser load(Path dir, Denoiser base) throws IOException {
    Config config = readConfig(dir);
    for (String target : config.lora().targets()) {
      if (!base.parameters().contains(target)) {
        throw new IOException(dir.resolve(CONFIG_FILE) + ": target module '" + moduleOf(target)
            + "' has no weight '" + target + "' in the base model");
      }
    }
    LoraDenoiser model = LoraDenoiser.wrap(base, config.lora(), Rng.of(0));
    Path file = dir.resolve(WEIGHTS_FILE);
    Map<String, INDArray> stored = new LinkedHashMap<>(Safetensors.read(file).tensors());
    Map<String, INDArray> ours = new LinkedHashMap<>();
    int rank = config.lora().rank();
    for (String target : config.lora().targets()) {
      String module = moduleOf(target);
      long[] shape = base.parameters().get(target).shape();
      ours.put(target + ".lora_A", take(stored, file, PREFIX + module + ".lora_A" + WEIGHT,
          peftShapeOfA(shape, rank), model.parameters().get(target + ".lora_A").shape()));
      ours.put(target + ".lora_B", take(stored, file, PREFIX + module + ".lora_B" + WEIGHT,
          peftShapeOfB(shape, rank), model.parameters().get(target + ".lora_B").shape()));
    }
    if (!stored.isEmpty()) {
      throw new IOException(file + ": tensors " + stored.keySet() + " belong to no module of target_modules");
    }
    model.parameters().load(ours, false);
    return model;
  }

  private static INDArray take(Map<String, INDArray> stored, Path file, String key, long[] peftShape, long[] ourShape)
      throws IOException {
    INDArray t = stored.remove(key);
    if (t == null) {
      throw new IOException(file + ": tensor '" + key + "' is missing");
    }
    if (!Arrays.equals(t.shape(), peftShape)) {
      throw new IOException(file + ": tensor '" + key + "' has shape " + Arrays.toString(t.shape()) + "; expected "
          + Arrays.toString(peftShape));
    }
    return t.reshape(ourShape).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup();
  }

  private static String moduleOf(String target) {
    if (!target.endsWith(WEIGHT) || target.length() == WEIGHT.length()) {
      throw new IllegalArgumentException("LoRA target '" + target + "' is not named <module>.weight; the PEFT "
          + "layout names adapters by module");
    }
    return target.substring(0, target.length() - WEIGHT.length());
  }

  /** (r, in) for a Linear weight (out, in); (r, in, kh, kw) for a Conv2d weight (out, in, kh, kw). */
  private static long[] peftShapeOfA(long[] weight, int rank) {
    long[] s = weight.clone();
    s[0] = rank;
    return s;
  }

  /** (out, r) for a Linear weight; (out, r, 1, 1) for a Conv2d weight. */
  private static long[] peftShapeOfB(long[] weight, int rank) {
    return weight.length == 2 ? new long[] {weight[0], rank} : new long[] {weight[0], rank, 1, 1};
  }

  private static final ObjectMapper JSON = new ObjectMapper();
}
