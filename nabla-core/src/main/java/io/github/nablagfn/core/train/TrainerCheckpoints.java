package io.github.nablagfn.core.train;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.objective.Objective;
import io.github.nablagfn.core.reward.Reward;
import io.github.nablagfn.core.sampler.Sampler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A trainer's state as tensors and settings: what a checkpoint holds ({@link Checkpoints}) and what a worker
 * needs to compute rows as the trainer would. Tensor names: {@code policy.*}, {@code flow.*},
 * {@code reward_state.*}, and in checkpoints also {@code opt.policy.*}, {@code opt.flow.*}.
 */
final class TrainerCheckpoints {
  private static final Logger LOG = LoggerFactory.getLogger(NablaTrainer.class);

  private final Denoiser policy;
  private final Denoiser reference;
  private final Denoiser flow;
  private final Sampler sampler;
  private final Reward reward;
  private final Objective objective;
  private final int batchSize;
  private final long seed;
  private final ParameterUpdates updates;

  TrainerCheckpoints(Denoiser policy, Denoiser reference, Denoiser flow, Sampler sampler, Reward reward,
      Objective objective, int batchSize, long seed, ParameterUpdates updates) {
    this.policy = policy;
    this.reference = reference;
    this.flow = flow;
    this.sampler = sampler;
    this.reward = reward;
    this.objective = objective;
    this.batchSize = batchSize;
    this.seed = seed;
    this.updates = updates;
  }

  /** The settings a checkpoint records and a resumed run must share. */
  Map<String, String> config() {
    Map<String, String> c = new LinkedHashMap<>(objective.settings());
    c.put("flow", flow == null ? "none" : "network");
    c.put("sampler", sampler.toString());
    c.put("reward", reward.name());
    c.put("beta", Double.toString(reward.scale()));
    c.put("batchSize", Integer.toString(batchSize));
    c.put("seed", Long.toString(seed));
    c.put("policyOptimizer", updates.policyOptimizer());
    c.put("flowOptimizer", updates.flowOptimizer());
    c.put("policyParameters", shapes(policy));
    c.put("flowParameters", flow == null ? "none" : shapes(flow));
    return c;
  }

  private static String shapes(Denoiser d) {
    StringBuilder sb = new StringBuilder();
    d.parameters().asMap().forEach((k, v) -> sb.append(k).append(Arrays.toString(v.shape())).append(';'));
    return Integer.toHexString(sb.toString().hashCode()) + " (" + d.parameters().count() + " parameters)";
  }

  /** The policy's and the flow's parameters and the reward's state, under their checkpoint names. */
  Map<String, INDArray> modelTensors() {
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    policy.parameters().asMap().forEach((k, v) -> tensors.put("policy." + k, v));
    if (flow != null) {
      flow.parameters().asMap().forEach((k, v) -> tensors.put("flow." + k, v));
    }
    reward.state().forEach((k, v) -> tensors.put("reward_state." + k, v));
    return tensors;
  }

  /** See {@link NablaTrainer#loadWorkerState}. */
  void loadWorkerState(HostTensors state) {
    Map<String, INDArray> pol = state.withPrefix("policy.");
    Map<String, INDArray> flo = state.withPrefix("flow.");
    Map<String, INDArray> rs = state.withPrefix("reward_state.");
    policy.parameters().validate(pol, false);
    if (flow != null) {
      flow.parameters().validate(flo, false);
    }
    checkRewardState(rs);
    load(pol, flo, rs);
  }

  private void load(Map<String, INDArray> pol, Map<String, INDArray> flo, Map<String, INDArray> rewardState) {
    reward.state().forEach((k, v) -> v.assign(rewardState.get(k)));
    policy.parameters().load(pol, false);
    if (flow != null) {
      flow.parameters().load(flo, false);
    }
  }

  /** Refuses saved reward statistics that lack one of the reward's state tensors or have another shape. */
  private void checkRewardState(Map<String, INDArray> saved) {
    for (Map.Entry<String, INDArray> e : reward.state().entrySet()) {
      INDArray a = saved.get(e.getKey());
      if (a == null || !Arrays.equals(a.shape(), e.getValue().shape())) {
        throw new IllegalArgumentException("reward state '" + e.getKey() + "' is missing or has another shape");
      }
    }
  }

  /** See {@link NablaTrainer#workerConfiguration}. */
  Map<String, String> workerConfiguration() {
    Map<String, String> c = new LinkedHashMap<>(config());
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    reference.parameters().asMap().forEach((k, v) -> {
      crc.update(k.getBytes(StandardCharsets.UTF_8));
      for (float f : v.castTo(DataType.FLOAT).dup('c').data().asFloat()) {
        int bits = Float.floatToRawIntBits(f);
        crc.update(bits);
        crc.update(bits >>> 8);
        crc.update(bits >>> 16);
        crc.update(bits >>> 24);
      }
    });
    c.put("referenceValues", Long.toHexString(crc.getValue()) + " (CRC32 of the reference's parameters)");
    return c;
  }

  /** Writes a checkpoint of iteration {@code iteration} into {@code dir}, keeping the newest {@code kept}. */
  void save(Path dir, long iteration, TrainingHistory history, int kept) {
    Map<String, INDArray> tensors = modelTensors();
    tensors.putAll(updates.stateTensors());
    Map<String, String> provenance = new LinkedHashMap<>();
    provenance.put("library", "nabla " + Optional.ofNullable(NablaTrainer.class.getPackage().getImplementationVersion())
        .orElse("development"));
    provenance.put("java", System.getProperty("java.version"));
    provenance.put("written", java.time.Instant.now().toString());
    try {
      Checkpoints.write(dir, iteration, tensors, config(), provenance, history.records(), kept);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write checkpoint at iteration " + iteration + " to " + dir, e);
    }
  }

  /**
   * Loads the newest intact checkpoint of {@code dir} when it is further along than {@code iteration}: θ, φ,
   * the optimizer states, the reward's state and {@code history}. Everything is checked before anything
   * changes.
   *
   * @return the checkpoint's iteration, or empty when there is none further along
   * @throws IllegalStateException when the checkpoint was written by another configuration or is damaged
   */
  OptionalLong resumeIfBehind(Path dir, long iteration, TrainingHistory history) {
    Optional<Checkpoints.Loaded> latest;
    try {
      latest = Checkpoints.newestIntact(dir,
          e -> LOG.warn("skipping a damaged checkpoint, trying the next older one: {}", e.getMessage()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (latest.isEmpty() || latest.get().iteration() <= iteration) {
      return OptionalLong.empty();
    }
    Checkpoints.Loaded c = latest.get();
    for (Map.Entry<String, String> e : config().entrySet()) {
      String theirs = c.config().get(e.getKey());
      if (!e.getValue().equals(theirs)) {
        throw new IllegalStateException(c.manifest() + ": written by a different configuration: " + e.getKey()
            + " is '" + theirs + "' there but '" + e.getValue() + "' here");
      }
    }
    for (Map.Entry<String, INDArray> t : c.tensors().entrySet()) {
      INDArray v = t.getValue();
      if (v.dataType().isFPType() && !allFinite(v)) {
        throw new IllegalStateException(c.manifest() + ": tensor '" + t.getKey()
            + "' holds non-finite values; the trainer never writes them, so the checkpoint is damaged");
      }
    }
    Map<String, INDArray> pol = withPrefix(c.tensors(), "policy.");
    Map<String, INDArray> flo = withPrefix(c.tensors(), "flow.");
    Map<String, INDArray> rewardState = withPrefix(c.tensors(), "reward_state.");
    try {
      Runnable states = updates.restoring(withPrefix(c.tensors(), "opt.policy."), withPrefix(c.tensors(), "opt.flow."));
      policy.parameters().validate(pol, false);
      if (flow != null) {
        flow.parameters().validate(flo, false);
      }
      checkRewardState(rewardState);
      // everything checked: now nothing can fail half-way
      load(pol, flo, rewardState);
      states.run();
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(c.manifest() + ": " + e.getMessage(), e);
    }
    history.clear();
    c.history().forEach(history::add);
    LOG.info("resumed from {} at iteration {}", c.manifest().getFileName(), c.iteration());
    return OptionalLong.of(c.iteration());
  }

  private static boolean allFinite(INDArray v) {
    for (double x : v.castTo(DataType.DOUBLE).data().asDouble()) {
      if (!Double.isFinite(x)) {
        return false;
      }
    }
    return true;
  }

  /** The tensors whose names start with {@code prefix}, with the prefix removed. */
  private static Map<String, INDArray> withPrefix(Map<String, INDArray> tensors, String prefix) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    tensors.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        out.put(k.substring(prefix.length()), v);
      }
    });
    return out;
  }
}
