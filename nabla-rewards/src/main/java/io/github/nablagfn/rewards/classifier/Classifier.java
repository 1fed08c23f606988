package io.github.nablagfn.rewards.classifier;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.nn.Activations;
import io.github.nablagfn.core.nn.Conv2d;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.Linear;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.runtime.Rng;
import java.io.IOException;
import java.nio.file.Path;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * The twin's reward classifier (56,394 parameters for 1 input channel and 10 classes):
 * <pre>
 *   h = SiLU(conv1(x))            1→32, 3×3, pad 1
 *   h = SiLU(conv2(h))            32→64, 3×3, stride 2, pad 1
 *   h = SiLU(conv3(h))            64→64, 3×3, stride 2, pad 1
 *   features = mean over H, W     (B, 64)   — the penultimate features used by metrics
 *   logits = fc(features)         64→10
 * </pre>
 */
public final class Classifier {
  private final ParameterSet params;
  private final Conv2d conv1;
  private final Conv2d conv2;
  private final Conv2d conv3;
  private final Linear fc;
  private final int numClasses;

  private Classifier(ParameterSet params, Conv2d conv1, Conv2d conv2, Conv2d conv3, Linear fc, int numClasses) {
    this.params = params;
    this.conv1 = conv1;
    this.conv2 = conv2;
    this.conv3 = conv3;
    this.fc = fc;
    this.numClasses = numClasses;
  }

  /** A freshly initialised classifier (PyTorch default initialisation from {@code rng}). */
  public static Classifier create(int inChannels, int numClasses, Rng rng) {
    if (inChannels < 1 || numClasses < 2) {
      throw new IllegalArgumentException("classifier: inChannels = " + inChannels + ", numClasses = " + numClasses
          + "; expected >= 1 and >= 2");
    }
    ParameterSet p = new ParameterSet();
    Conv2d c1 = Conv2d.create(p, rng, "conv1", inChannels, 32, 3, 1, 1);
    Conv2d c2 = Conv2d.create(p, rng, "conv2", 32, 64, 3, 2, 1);
    Conv2d c3 = Conv2d.create(p, rng, "conv3", 64, 64, 3, 2, 1);
    Linear fc = Linear.create(p, rng, "fc", 64, numClasses, true);
    return new Classifier(p, c1, c2, c3, fc, numClasses);
  }

  /** Reads weights from safetensors (e.g. the twin's {@code classifier.safetensors}); names and shapes must match. */
  public Classifier load(Path file) throws IOException {
    params.loadSafetensors(file);
    return this;
  }

  public void save(Path file) throws IOException {
    Safetensors.write(file, params.asMap(), java.util.Map.of("model", "classifier", "classes", Integer.toString(numClasses)));
  }

  public ParameterSet parameters() {
    return params;
  }

  public int numClasses() {
    return numClasses;
  }

  /** Penultimate features (B, 64): the spatial mean of the last convolution's activations. */
  public SDVariable features(GraphScope scope, SDVariable x) {
    SameDiff sd = scope.sd();
    SDVariable h = Activations.silu(sd, conv1.forward(scope, x));
    h = Activations.silu(sd, conv2.forward(scope, h));
    h = Activations.silu(sd, conv3.forward(scope, h));
    return h.mean(2, 3);
  }

  /** Logits (B, numClasses). */
  public SDVariable logits(GraphScope scope, SDVariable x) {
    return fc.forward(scope, features(scope, x));
  }
}
