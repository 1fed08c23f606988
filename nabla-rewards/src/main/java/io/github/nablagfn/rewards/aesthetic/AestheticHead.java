package io.github.nablagfn.rewards.aesthetic;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.Linear;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.runtime.Rng;
import java.io.IOException;
import java.nio.file.Path;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The architecture of the LAION aesthetic predictor ("improved-aesthetic-predictor"): an MLP over a frozen
 * image embedding, L2-normalised, with layers {@code layers.0} (D→1024), {@code layers.2} (1024→128),
 * {@code layers.4} (128→64), {@code layers.6} (64→16) and {@code layers.7} (16→1). The original has no
 * activations between the linear layers (its dropout layers, indices 1, 3, 5, are identities at
 * inference) and the same parameter names, so a state dict converted to safetensors loads directly.
 * Here the embedding is the reward classifier's 64-d penultimate features (no CLIP on the JVM).
 */
public final class AestheticHead {
  /** The names and widths of the LAION predictor's linear layers, for embedding dimension D. */
  static final String[] LAYERS = {"layers.0", "layers.2", "layers.4", "layers.6", "layers.7"};

  private final ParameterSet params;
  private final Linear[] layers;
  private final int embedding;

  private AestheticHead(ParameterSet params, Linear[] layers, int embedding) {
    this.params = params;
    this.layers = layers;
    this.embedding = embedding;
  }

  /** A freshly initialised head (PyTorch default initialisation) for embeddings of dimension D. */
  public static AestheticHead create(int embedding, Rng rng) {
    if (embedding < 1) {
      throw new IllegalArgumentException("aesthetic head: embedding = " + embedding + "; expected >= 1");
    }
    int[] widths = {embedding, 1024, 128, 64, 16, 1};
    ParameterSet p = new ParameterSet();
    Linear[] layers = new Linear[LAYERS.length];
    for (int i = 0; i < LAYERS.length; i++) {
      layers[i] = Linear.create(p, rng, LAYERS[i], widths[i], widths[i + 1], true);
    }
    return new AestheticHead(p, layers, embedding);
  }

  /** Reads weights from safetensors; every tensor must be present with its shape (errors name it). */
  public AestheticHead load(Path file) throws IOException {
    params.loadSafetensors(file);
    return this;
  }

  public void save(Path file) throws IOException {
    io.github.nablagfn.core.io.Safetensors.write(file, params.asMap(),
        java.util.Map.of("model", "aesthetic-head", "embedding", Integer.toString(embedding)));
  }

  public ParameterSet parameters() {
    return params;
  }

  public int embedding() {
    return embedding;
  }

  /** Score (B) of embeddings (B, D): the MLP applied to e/‖e‖. */
  public SDVariable forward(GraphScope scope, SDVariable embeddings) {
    SDVariable norm = scope.sd().math().sqrt(embeddings.mul(embeddings).sum(true, 1).add(1e-12));
    SDVariable h = embeddings.div(norm);
    for (Linear l : layers) {
      h = l.forward(scope, h);
    }
    return h.reshape(-1);
  }
}
