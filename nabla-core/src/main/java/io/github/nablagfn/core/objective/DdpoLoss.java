package io.github.nablagfn.core.objective;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.graph.GraphRuns;
import io.github.nablagfn.core.runtime.NablaRuntime;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The graph of {@link Ddpo}: per row (one transition of one trajectory) log π(x_s | x_t) =
 * −½ Σ (x_s − μ)²/σ² for the policy (μ from ε_θ) and for the sampling policy (μ from the recorded ε, the
 * same ops), ρ = exp(difference), and the clipped surrogate; rows are processed in chunks, combined with
 * weights rows/N.
 */
public final class DdpoLoss {
  private static final String POLICY = "policy.";

  /** The surrogate loss, its gradient by parameter name, and the mean and max |ρ − 1| over rows. */
  public record Result(double loss, Map<String, INDArray> policyGradients, double meanRatioDeviation,
      double clippedFraction) {}

  private final Ddpo objective;
  private final Denoiser policy;
  private final boolean conditional;
  private final SameDiff sd;
  private final List<String> vars;
  private int rowsPerExecution;

  public DdpoLoss(Ddpo objective, Denoiser policy) {
    this.objective = objective;
    this.policy = policy;
    this.conditional = policy.numClasses() > 0;
    this.sd = graph();
    this.vars = policy.parameters().names().stream().map(n -> POLICY + n).toList();
    NablaRuntime.quietly(() -> {
      sd.createGradFunction();
      return null;
    });
  }

  public DdpoLoss rowsPerExecution(int rows) {
    this.rowsPerExecution = Columns.checkRowsPerExecution(rows);
    return this;
  }

  private SameDiff graph() {
    SameDiff g = SameDiff.create();
    TransitionInputs in = TransitionInputs.declare(g, policy.sampleShape(), conditional);
    SDVariable xT = in.xT();
    SDVariable xNext = in.xNext();
    SDVariable epsOld = in.epsOld();
    SDVariable mX = in.mX();
    SDVariable mO = in.mO();
    SDVariable invVar = in.invVar();
    SDVariable adv = g.placeHolder("adv", DataType.FLOAT, -1);
    SDVariable eps = policy.forward(GraphScope.of(g, POLICY, policy.parameters()), xT, in.t(), in.c());
    SDVariable d = xNext.sub(xT.mul(mX).add(eps.mul(mO)));
    SDVariable dOld = xNext.sub(xT.mul(mX).add(epsOld.mul(mO)));
    SDVariable logp = Columns.sumPerRow(d.mul(d).mul(invVar), policy.sampleShape()).mul(-0.5);
    SDVariable logpOld = Columns.sumPerRow(dOld.mul(dOld).mul(invVar), policy.sampleShape()).mul(-0.5);
    SDVariable ratio = g.math().exp(logp.sub(logpOld));
    ratio.rename("ratio");
    double eps0 = objective.clipRange();
    SDVariable unclipped = adv.neg().mul(ratio);
    SDVariable clipped = adv.neg().mul(g.math().clipByValue(ratio, 1 - eps0, 1 + eps0));
    // max(u, c) written as u + relu(c − u): where the two are equal (inside the clip range, e.g. at the
    // sampling policy) SameDiff's max differentiates both branches, doubling the gradient; relu'(0) = 0
    unclipped.add(g.nn().relu(clipped.sub(unclipped), 0.0)).mean().rename("loss");
    g.setLossVariables("loss");
    return g;
  }

  /**
   * Advantages per trajectory: (R − mean)/(std + 1e-8) among the trajectories with the same condition
   * (all of them when {@code conditions} is null). A condition seen once gets advantage 0.
   */
  public static double[] advantages(double[] rewards, long[] conditions) {
    int n = rewards.length;
    double[] a = new double[n];
    Map<Long, double[]> stats = new HashMap<>(); // sum, sum², count
    for (int i = 0; i < n; i++) {
      double[] s = stats.computeIfAbsent(conditions == null ? 0L : conditions[i], k -> new double[3]);
      s[0] += rewards[i];
      s[1] += rewards[i] * rewards[i];
      s[2]++;
    }
    for (int i = 0; i < n; i++) {
      double[] s = stats.get(conditions == null ? 0L : conditions[i]);
      double mean = s[0] / s[2];
      double var = Math.max(0, s[1] / s[2] - mean * mean);
      a[i] = s[2] < 2 ? 0 : (rewards[i] - mean) / (Math.sqrt(var) + 1e-8);
    }
    return a;
  }

  /**
   * The surrogate on a batch of transitions whose rows are trajectory-major within each step
   * (row = k·B + b, as {@link TransitionBatch} stacks them), with advantages per trajectory (B).
   */
  public Result compute(TransitionBatch b, double[] trajectoryAdvantages) {
    int rows = b.rows();
    int batch = trajectoryAdvantages.length;
    double[] adv = new double[rows];
    for (int r = 0; r < rows; r++) {
      adv[r] = trajectoryAdvantages[r % batch];
    }
    double[] sums = new double[3]; // loss, Σ|ρ − 1|/rows, clipped rows
    Map<String, INDArray> grads = new LinkedHashMap<>();
    RowChunks.forEach(rowsPerExecution, rows, (from, to, w) -> {
      TransitionBatch part = to - from == rows ? b : b.slice(from, to);
      Map<String, INDArray> ph = TransitionInputs.feed(part, conditional);
      ph.put("adv", Nd4j.createFromArray(java.util.Arrays.copyOfRange(adv, from, to)).castTo(DataType.FLOAT));
      OutAndGrad og = GraphRuns.gradientsAndOutputs(sd, ph, List.of("loss", "ratio"), vars);
      sums[0] += w * og.getOutputs().get("loss").getDouble(0);
      double[] ratio = og.getOutputs().get("ratio").castTo(DataType.DOUBLE).toDoubleVector();
      for (double r : ratio) {
        sums[1] += Math.abs(r - 1) / rows;
        sums[2] += Math.abs(r - 1) > objective.clipRange() ? 1 : 0;
      }
      RowChunks.addWeighted(grads, RowChunks.byParameter(og.getGradients(), POLICY, policy), w);
      NablaRuntime.relieveMemory();
    });
    return new Result(sums[0], grads, sums[1], sums[2] / rows);
  }
}
