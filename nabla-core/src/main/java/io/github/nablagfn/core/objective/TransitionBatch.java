package io.github.nablagfn.core.objective;

import io.github.nablagfn.core.sampler.GaussianStep;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.sampler.Sampler;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * K sampled transitions x_t → x_s of a batch of B trajectories, stacked into N = K·B rows so that one
 * graph execution evaluates all of them. Per-row scalars (timesteps, step coefficients, the reward
 * weights γβ) are kept in double and turned into columns when fed to a graph.
 *
 * <p>Names follow the sampling order: x_t is the state a step starts from ({@code xT}, {@code t}) and x_s
 * (s = t − 1 in time) the state it goes to, "next" in the chain ({@code xNext}, {@code tNext}; graph
 * placeholders {@code x_next}, {@code t_next}); the loss's scores at x_s are {@code scoreRNext},
 * {@code rewardNext}.
 */
public final class TransitionBatch {
  final INDArray xT;
  final INDArray xNext;
  final INDArray epsOld;
  /**
   * The sampling-time output at x_s (zeros on the final step, whose x_s = x_0 has none); null when the
   * trajectory lacks one (a batch assembled from single transitions).
   */
  final INDArray epsNext;
  final INDArray condition;
  final int[] t;
  final int[] tNext;
  final int[] stepIndex;
  final boolean[] isFinal;
  final double[] meanFromSample;
  final double[] meanFromOutput;
  final double[] invVariance;
  final double[] x0FromSampleT;
  final double[] x0FromOutputT;
  final double[] x0FromSampleNext;
  final double[] x0FromOutputNext;
  final double[] rewardWeightT;
  final double[] rewardWeightNext;
  /** r = √(ᾱ_t/ᾱ_s) and 1/(1 − ᾱ_t/ᾱ_s) of the noising kernel P_B(x_t | x_s) = N(r x_s, (1 − r²) I). */
  final double[] noisingScale;
  final double[] noisingInvVariance;
  final int rank;

  private TransitionBatch(List<INDArray> xt, List<INDArray> xp, List<INDArray> eo, List<INDArray> en,
      List<INDArray> cond, int n, int rank) {
    this(Nd4j.concat(0, xt.toArray(new INDArray[0])), Nd4j.concat(0, xp.toArray(new INDArray[0])),
        Nd4j.concat(0, eo.toArray(new INDArray[0])), en == null ? null : Nd4j.concat(0, en.toArray(new INDArray[0])),
        cond.isEmpty() ? null : Nd4j.concat(0, cond.toArray(new INDArray[0])), n, rank);
  }

  private TransitionBatch(INDArray xT, INDArray xNext, INDArray epsOld, INDArray epsNext, INDArray condition, int n,
      int rank) {
    this.xT = xT;
    this.xNext = xNext;
    this.epsOld = epsOld;
    this.epsNext = epsNext;
    this.condition = condition;
    this.t = new int[n];
    this.tNext = new int[n];
    this.stepIndex = new int[n];
    this.isFinal = new boolean[n];
    this.meanFromSample = new double[n];
    this.meanFromOutput = new double[n];
    this.invVariance = new double[n];
    this.x0FromSampleT = new double[n];
    this.x0FromOutputT = new double[n];
    this.x0FromSampleNext = new double[n];
    this.x0FromOutputNext = new double[n];
    this.rewardWeightT = new double[n];
    this.rewardWeightNext = new double[n];
    this.noisingScale = new double[n];
    this.noisingInvVariance = new double[n];
    this.rank = rank;
  }

  /**
   * Stacks the transitions {@code steps} of {@code trajectory}.
   *
   * @param beta reward scale β
   */
  public static TransitionBatch of(Sampler sampler, Trajectory trajectory, int[] steps, RewardWeighting weighting,
      double beta) {
    if (steps.length == 0) {
      throw new IllegalArgumentException("no transitions chosen");
    }
    int b = Math.toIntExact(trajectory.states()[steps[0]].size(0));
    List<INDArray> xt = new ArrayList<>();
    List<INDArray> xp = new ArrayList<>();
    List<INDArray> eo = new ArrayList<>();
    List<INDArray> en = new ArrayList<>(); // null when an output at x_s is missing
    List<INDArray> cond = new ArrayList<>();
    for (int i : steps) {
      xt.add(trajectory.states()[i]);
      xp.add(trajectory.states()[i + 1]);
      eo.add(trajectory.outputs()[i]);
      INDArray next = i + 1 < trajectory.numSteps() ? trajectory.outputs()[i + 1]
          : Nd4j.zerosLike(trajectory.outputs()[i]);
      if (en != null && next != null) {
        en.add(next);
      } else {
        en = null; // a trajectory without the output at some x_s (only the DB family needs them)
      }
      if (trajectory.condition() != null) {
        cond.add(trajectory.condition().reshape(b));
      }
    }
    TransitionBatch tb = new TransitionBatch(xt, xp, eo, en, cond, steps.length * b, xt.get(0).rank());
    PredictionType prediction = sampler.prediction();
    int last = sampler.numSteps() - 1;
    for (int k = 0; k < steps.length; k++) {
      GaussianStep st = sampler.step(steps[k]);
      if (!(st.variance() > 0)) {
        throw new IllegalArgumentException("step " + steps[k] + " (t = " + st.timestep() + ") has variance "
            + st.variance() + "; ∇-DB needs a stochastic sampler (eta > 0, final alpha-bar < 1)");
      }
      boolean fin = steps[k] == last;
      int tNext = fin ? 0 : sampler.step(steps[k] + 1).timestep();
      double[] prevCoef = prediction.coefficients(fin ? sampler.schedule().alphaCumprod(0)
          : sampler.step(steps[k] + 1).alphaCumprod());
      for (int r = k * b; r < (k + 1) * b; r++) {
        tb.t[r] = st.timestep();
        tb.tNext[r] = tNext;
        tb.stepIndex[r] = steps[k];
        tb.isFinal[r] = fin;
        tb.meanFromSample[r] = st.meanFromSample();
        tb.meanFromOutput[r] = st.meanFromOutput();
        tb.invVariance[r] = 1.0 / st.variance();
        tb.x0FromSampleT[r] = st.x0FromSample();
        tb.x0FromOutputT[r] = st.x0FromOutput();
        tb.rewardWeightT[r] = weighting.gamma(st.alphaCumprod()) * beta;
        double ratio = st.alphaCumprod() / st.alphaCumprodPrev();
        tb.noisingScale[r] = Math.sqrt(ratio);
        tb.noisingInvVariance[r] = 1.0 / (1.0 - ratio);
        if (fin) {
          // score_r at x_0 is β ∇R(x_0): x̂0 = x itself, no γ
          tb.x0FromSampleNext[r] = 1.0;
          tb.x0FromOutputNext[r] = 0.0;
          tb.rewardWeightNext[r] = beta;
        } else {
          tb.x0FromSampleNext[r] = prevCoef[0];
          tb.x0FromOutputNext[r] = prevCoef[1];
          tb.rewardWeightNext[r] = weighting.gamma(sampler.step(steps[k] + 1).alphaCumprod()) * beta;
        }
      }
    }
    return tb;
  }

  /** N = K·B. */
  public int rows() {
    return t.length;
  }

  /** Rows [from, to) as a batch of their own (arrays copied). */
  public TransitionBatch slice(int from, int to) {
    if (from < 0 || to > rows() || from >= to) {
      throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a batch of " + rows());
    }
    TransitionBatch s = new TransitionBatch(Columns.rows(xT, from, to), Columns.rows(xNext, from, to),
        Columns.rows(epsOld, from, to), Columns.rows(epsNext, from, to), Columns.rows(condition, from, to), to - from,
        rank);
    int n = to - from;
    System.arraycopy(t, from, s.t, 0, n);
    System.arraycopy(tNext, from, s.tNext, 0, n);
    System.arraycopy(stepIndex, from, s.stepIndex, 0, n);
    System.arraycopy(isFinal, from, s.isFinal, 0, n);
    for (double[][] pair : new double[][][] {{meanFromSample, s.meanFromSample}, {meanFromOutput, s.meanFromOutput},
        {invVariance, s.invVariance}, {x0FromSampleT, s.x0FromSampleT}, {x0FromOutputT, s.x0FromOutputT},
        {x0FromSampleNext, s.x0FromSampleNext}, {x0FromOutputNext, s.x0FromOutputNext},
        {rewardWeightT, s.rewardWeightT}, {rewardWeightNext, s.rewardWeightNext}, {noisingScale, s.noisingScale},
        {noisingInvVariance, s.noisingInvVariance}}) {
      System.arraycopy(pair[0], from, pair[1], 0, n);
    }
    return s;
  }


  INDArray column(double[] v) {
    return Columns.of(v, rank);
  }

  INDArray mask(boolean finalRows) {
    double[] m = new double[isFinal.length];
    for (int i = 0; i < m.length; i++) {
      m[i] = isFinal[i] == finalRows ? 1.0 : 0.0;
    }
    return column(m);
  }

  static INDArray doubles(int[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return Nd4j.createFromArray(d);
  }
}
