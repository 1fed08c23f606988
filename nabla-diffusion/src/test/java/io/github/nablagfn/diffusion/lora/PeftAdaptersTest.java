package io.github.nablagfn.diffusion.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class PeftAdaptersTest {
  private static final UNetConfig TINY = new UNetConfig(1, 8, new int[] {8, 8}, true, 4, 8, 16, 3, false,
      PredictionType.EPSILON);
  private static final INDArray X = Rng.of(9).gaussian(3, 1, 8, 8);
  private static final int[] T = {10, 500, 990};
  private static final INDArray C = Nd4j.createFromArray(0L, 2L, 3L);
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  /** Every weight of rank ≥ 2 (Linear and Conv2d), as the command line's {@code --lora-targets all}. */
  private static LoraConfig everyWeight(UNet unet, int rank, double alpha) {
    List<String> targets = unet.parameters().names().stream()
        .filter(n -> n.endsWith(".weight") && unet.parameters().get(n).rank() >= 2).toList();
    return new LoraConfig(rank, alpha, targets, LoraConfig.Init.KAIMING_UNIFORM);
  }

  /** A trained-looking adapter: A and B both non-zero. */
  private static LoraDenoiser trained(int rank, double alpha) {
    UNet base = UNet.create(TINY, Rng.of(1));
    LoraDenoiser lora = LoraDenoiser.wrap(base, everyWeight(base, rank, alpha), Rng.of(2));
    lora.parameters().asMap().forEach((k, v) -> v.assign(Rng.of(k.hashCode()).gaussian(v.shape()).muli(0.2)));
    return lora;
  }

  private static INDArray out(io.github.nablagfn.core.model.Denoiser d) {
    return new DenoiserGraph(d).predict(X, T, C);
  }

  @Test
  void savedAdaptersLoadedIntoAFreshBaseGiveIdenticalOutputs() throws IOException {
    LoraDenoiser a = trained(3, 6.0);
    INDArray expected = out(a);
    assertThat(expected.sub(out(a.base())).amaxNumber().doubleValue()).as("the adapters matter").isGreaterThan(1e-3);
    Path adapter = dir.resolve("adapter");
    PeftAdapters.save(a, adapter, "tiny-unet.safetensors", Map.of("nabla.base_sha256", "00ff"));

    LoraDenoiser b = PeftAdapters.load(adapter, UNet.create(TINY, Rng.of(1)));
    assertThat(b.config()).isEqualTo(a.config());
    a.parameters().asMap().forEach((k, v) -> assertThat(b.parameters().get(k)).as(k).isEqualTo(v));
    assertThat(out(b)).as("same values, same graph: the same bits").isEqualTo(expected);
    assertThat(PeftAdapters.readConfig(adapter).baseModel()).isEqualTo("tiny-unet.safetensors");
    assertThat(Safetensors.read(adapter.resolve(PeftAdapters.WEIGHTS_FILE)).metadata())
        .containsEntry("nabla.base_sha256", "00ff");

    // the same through the model's own methods
    LoraDenoiser c = LoraDenoiser.wrap(UNet.create(TINY, Rng.of(1)), a.config(), Rng.of(5));
    c.loadAdapters(adapter);
    assertThat(out(c)).isEqualTo(expected);
  }

  /**
   * The files follow PEFT: names {@code base_model.model.<module>.lora_{A,B}.weight}, Conv2d adapters as
   * (r, in, kh, kw) and (out, r, 1, 1), and the merged weight W + (lora_alpha/r)·B·A computed here by hand
   * from the stored tensors (PEFT's formula, plain loops) equals what {@link LoraDenoiser#merge()} folds in.
   */
  @Test
  void theFilesFollowPeftsNamesShapesAndMergeFormula() throws IOException {
    LoraDenoiser a = trained(2, 5.0);
    Path adapter = dir.resolve("adapter");
    PeftAdapters.save(a, adapter, "base", Map.of());
    Map<String, INDArray> stored = Safetensors.read(adapter.resolve(PeftAdapters.WEIGHTS_FILE)).tensors();
    JsonNode config = JSON.readTree(adapter.resolve(PeftAdapters.CONFIG_FILE).toFile());
    assertThat(config.path("peft_type").asText()).isEqualTo("LORA");
    assertThat(config.path("r").asInt()).isEqualTo(2);
    assertThat(config.path("lora_alpha").asDouble()).isEqualTo(5.0);
    assertThat(config.path("base_model_name_or_path").asText()).isEqualTo("base");
    assertThat(config.path("lora_dropout").asDouble()).isZero();
    assertThat(config.path("bias").asText()).isEqualTo("none");

    Set<String> modules = new HashSet<>();
    config.path("target_modules").forEach(m -> modules.add(m.asText()));
    Set<String> expectedKeys = new HashSet<>();
    for (String m : modules) {
      expectedKeys.add("base_model.model." + m + ".lora_A.weight");
      expectedKeys.add("base_model.model." + m + ".lora_B.weight");
    }
    assertThat(stored.keySet()).isEqualTo(expectedKeys);

    Map<String, INDArray> before = new LinkedHashMap<>();
    a.base().parameters().asMap().forEach((k, v) -> before.put(k, v.dup()));
    LoraDenoiser merged = a.copy();
    merged.merge();
    int conv = 0;
    int linear = 0;
    for (String m : modules) {
      INDArray w = before.get(m + ".weight");
      INDArray pa = stored.get("base_model.model." + m + ".lora_A.weight");
      INDArray pb = stored.get("base_model.model." + m + ".lora_B.weight");
      long out = w.size(0);
      long fanIn = w.length() / out;
      if (w.rank() == 4) {
        conv++;
        assertThat(pa.shape()).containsExactly(2, w.size(1), w.size(2), w.size(3));
        assertThat(pb.shape()).containsExactly(out, 2, 1, 1);
      } else {
        linear++;
        assertThat(pa.shape()).containsExactly(2, w.size(1));
        assertThat(pb.shape()).containsExactly(out, 2);
      }
      float[] wa = pa.dup().data().asFloat();
      float[] wb = pb.dup().data().asFloat();
      float[] w0 = w.dup().data().asFloat();
      float[] got = merged.base().parameters().get(m + ".weight").dup().data().asFloat();
      double worst = 0;
      for (int o = 0; o < out; o++) {
        for (int j = 0; j < fanIn; j++) {
          double delta = 0;
          for (int r = 0; r < 2; r++) {
            delta += (double) wb[o * 2 + r] * wa[(int) (r * fanIn + j)];
          }
          double want = w0[(int) (o * fanIn + j)] + 2.5 * delta;
          worst = Math.max(worst, Math.abs(got[(int) (o * fanIn + j)] - want) / (1 + Math.abs(want)));
        }
      }
      // float32 products of ≤ 2 terms against a double reference: a few ulps
      assertThat(worst).as("merged %s", m).isLessThan(1e-6);
    }
    assertThat(conv).as("conv targets").isPositive();
    assertThat(linear).as("linear targets").isPositive();
  }

  @Test
  void brokenAdapterDirectoriesAreRefusedWithWhatIsWrong() throws IOException {
    LoraDenoiser a = trained(2, 2.0);
    Path good = dir.resolve("good");
    PeftAdapters.save(a, good, "base", Map.of());
    String someModule = a.config().targets().get(0).replace(".weight", "");

    assertThatThrownBy(() -> PeftAdapters.load(dir.resolve("nothing"), UNet.create(TINY, Rng.of(1))))
        .hasMessageContaining("adapter_config.json is missing");

    Path missing = copy(good, "missing");
    Map<String, INDArray> t = new LinkedHashMap<>(Safetensors.read(good.resolve(PeftAdapters.WEIGHTS_FILE)).tensors());
    t.remove("base_model.model." + someModule + ".lora_B.weight");
    Safetensors.write(missing.resolve(PeftAdapters.WEIGHTS_FILE), t);
    assertThatThrownBy(() -> PeftAdapters.load(missing, UNet.create(TINY, Rng.of(1))))
        .hasMessageContaining("'base_model.model." + someModule + ".lora_B.weight' is missing");

    Path extra = copy(good, "extra");
    t = new LinkedHashMap<>(Safetensors.read(good.resolve(PeftAdapters.WEIGHTS_FILE)).tensors());
    t.put("base_model.model.elsewhere.lora_A.weight", Nd4j.zeros(2, 2));
    Safetensors.write(extra.resolve(PeftAdapters.WEIGHTS_FILE), t);
    assertThatThrownBy(() -> PeftAdapters.load(extra, UNet.create(TINY, Rng.of(1))))
        .hasMessageContaining("base_model.model.elsewhere.lora_A.weight").hasMessageContaining("belong to no module");

    Path shape = copy(good, "shape");
    t = new LinkedHashMap<>(Safetensors.read(good.resolve(PeftAdapters.WEIGHTS_FILE)).tensors());
    t.put("base_model.model." + someModule + ".lora_A.weight", Nd4j.zeros(7, 3));
    Safetensors.write(shape.resolve(PeftAdapters.WEIGHTS_FILE), t);
    assertThatThrownBy(() -> PeftAdapters.load(shape, UNet.create(TINY, Rng.of(1))))
        .hasMessageContaining("has shape [7, 3]; expected");

    assertThatThrownBy(() -> PeftAdapters.load(editConfig(good, "type", c -> c.put("peft_type", "IA3")),
        UNet.create(TINY, Rng.of(1)))).hasMessageContaining("peft_type = \"IA3\"; expected \"LORA\"");
    assertThatThrownBy(() -> PeftAdapters.load(editConfig(good, "regex", c -> c.put("target_modules", ".*attn.*")),
        UNet.create(TINY, Rng.of(1)))).hasMessageContaining("a regular expression is not supported");
    assertThatThrownBy(() -> PeftAdapters.load(editConfig(good, "module",
        c -> c.withArray("target_modules").add("no.such.module")), UNet.create(TINY, Rng.of(1))))
        .hasMessageContaining("target module 'no.such.module' has no weight");
    assertThatThrownBy(() -> PeftAdapters.load(editConfig(good, "dora", c -> c.put("use_dora", true)),
        UNet.create(TINY, Rng.of(1)))).hasMessageContaining("use_dora = true");
    assertThatThrownBy(() -> PeftAdapters.load(editConfig(good, "rank", c -> c.put("r", 0)),
        UNet.create(TINY, Rng.of(1)))).hasMessageContaining("r = 0; expected an integer >= 1");

    LoraDenoiser otherRank = LoraDenoiser.wrap(UNet.create(TINY, Rng.of(1)),
        new LoraConfig(4, 2.0, a.config().targets(), LoraConfig.Init.KAIMING_UNIFORM), Rng.of(1));
    assertThatThrownBy(() -> otherRank.loadAdapters(good)).hasMessageContaining("adapters of rank 2; this model has rank 4");
  }

  private Path copy(Path from, String name) throws IOException {
    Path to = dir.resolve(name);
    Files.createDirectories(to);
    for (String f : List.of(PeftAdapters.WEIGHTS_FILE, PeftAdapters.CONFIG_FILE)) {
      Files.copy(from.resolve(f), to.resolve(f));
    }
    return to;
  }

  private Path editConfig(Path from, String name, java.util.function.Consumer<ObjectNode> edit) throws IOException {
    Path to = copy(from, name);
    ObjectNode c = (ObjectNode) JSON.readTree(to.resolve(PeftAdapters.CONFIG_FILE).toFile());
    edit.accept(c);
    Files.writeString(to.resolve(PeftAdapters.CONFIG_FILE), JSON.writeValueAsString(c));
    return to;
  }
}
