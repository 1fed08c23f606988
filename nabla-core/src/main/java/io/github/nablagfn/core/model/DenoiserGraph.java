package io.github.nablagfn.core.model;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.graph.GraphRuns;
import io.github.nablagfn.core.sampler.Sampler;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A denoiser's forward graph, built once and executed many times: placeholders {@code x} (float32,
 * (B, sampleShape...)), {@code t} (float64, (B)) and, for a conditional model, {@code c} (int64, (B)),
 * output {@code out}. The graph holds the denoiser's live parameter arrays, so it always evaluates
 * the current parameters. Usable directly as a {@link Sampler.Model}.
 */
public final class DenoiserGraph implements Sampler.Model {
  public static final String X = "x";
  public static final String T = "t";
  public static final String C = "c";
  public static final String OUT = "out";

  private final Denoiser denoiser;
  private final SameDiff sd;

  public DenoiserGraph(Denoiser denoiser) {
    this.denoiser = denoiser;
    this.sd = SameDiff.create();
    SDVariable x = sd.placeHolder(X, DataType.FLOAT, withBatch(-1, denoiser.sampleShape()));
    SDVariable t = sd.placeHolder(T, DataType.DOUBLE, -1);
    SDVariable c = denoiser.numClasses() > 0 ? sd.placeHolder(C, DataType.INT64, -1) : null;
    SDVariable out = denoiser.forward(GraphScope.of(sd, "", denoiser.parameters()), x, t, c);
    out.rename(OUT);
  }

  /** (batch, sampleShape...): the shape of a batch; batch −1 gives a placeholder shape. */
  public static long[] withBatch(long batch, long[] sampleShape) {
    long[] s = new long[sampleShape.length + 1];
    s[0] = batch;
    System.arraycopy(sampleShape, 0, s, 1, sampleShape.length);
    return s;
  }

  public Denoiser denoiser() {
    return denoiser;
  }

  /** The graph (for inspection). */
  public SameDiff graph() {
    return sd;
  }

  /** The model output for x_t, per-row timesteps and labels (null for unconditional models). */
  @Override
  public INDArray predict(INDArray sample, int[] timesteps, INDArray condition) {
    return GraphRuns.output(sd, placeholders(denoiser, sample, timesteps, condition), OUT).get(OUT);
  }

  /** Validated placeholder map for a denoiser graph. */
  public static Map<String, INDArray> placeholders(Denoiser denoiser, INDArray sample, int[] timesteps,
      INDArray condition) {
    long[] expected = denoiser.sampleShape();
    long[] got = sample.shape();
    if (got.length != expected.length + 1 || !Arrays.equals(Arrays.copyOfRange(got, 1, got.length), expected)) {
      throw new IllegalArgumentException("sample shape " + Arrays.toString(got) + "; expected (B, "
          + Arrays.toString(expected).replaceAll("[\\[\\]]", "") + ")");
    }
    if (timesteps.length != got[0]) {
      throw new IllegalArgumentException(timesteps.length + " timesteps for a batch of " + got[0]);
    }
    Map<String, INDArray> ph = new HashMap<>();
    ph.put(X, sample.dataType() == DataType.FLOAT ? sample : sample.castTo(DataType.FLOAT));
    double[] t = new double[timesteps.length];
    for (int i = 0; i < t.length; i++) {
      t[i] = timesteps[i];
    }
    ph.put(T, Nd4j.createFromArray(t));
    if (denoiser.numClasses() > 0) {
      if (condition == null || condition.length() != got[0]) {
        throw new IllegalArgumentException("conditional model: expected " + got[0] + " class labels, got "
            + (condition == null ? "none" : condition.length()));
      }
      ph.put(C, condition.castTo(DataType.INT64).reshape(got[0]));
    } else if (condition != null) {
      throw new IllegalArgumentException("unconditional model given a condition");
    }
    return ph;
  }
}
