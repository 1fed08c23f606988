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
  private final int rank;
  private final SameDiff sd;
  private final List<String> vars;
  private int rowsPerExecution;

  public DdpoLoss(Ddpo objective, Denoiser policy) {
    this.objective = objective;
    this.policy = policy;
    this.conditional = policy.numClasses() > 0;
    this.rank = policy.sampleShape().length + 1;
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
    long[] shape = io.github.nablagfn.core.model.DenoiserGraph.withBatch(-1, policy.sampleShape());
    SDVariable xT = g.placeHolder("x_t", DataType.FLOAT, shape);
    SDVariable xNext = g.placeHolder("x_next", DataType.FLOAT, shape);
    SDVariable epsOld = g.placeHolder("eps_old", DataType.FLOAT, shape);
    SDVariable t = g.placeHolder("t", DataType.DOUBLE, -1);
    SDVariable c = conditional ? g.placeHolder("c", DataType.INT64, -1) : null;
    SDVariable mX = g.placeHolder("m_x", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable mO = g.placeHolder("m_o", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable invVar = g.placeHolder("inv_var", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable adv = g.placeHolder("adv", DataType.FLOAT, -1);
    SDVariable eps = policy.forward(GraphScope.of(g, POLICY, policy.parameters()), xT, t, c);
    int[] dims = new int[rank - 1];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = i + 1;
    }
    SDVariable d = xNext.sub(xT.mul(mX).add(eps.mul(mO)));
    SDVariable dOld = xNext.sub(xT.mul(mX).add(epsOld.mul(mO)));
    SDVariable logp = d.mul(d).mul(invVar).sum(dims).mul(-0.5);
    SDVariable logpOld = dOld.mul(dOld).mul(invVar).sum(dims).mul(-0.5);
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
    int size = Columns.chunk(rowsPerExecution, rows);
    double loss = 0;
    double dev = 0;
    double clippedRows = 0;
    Map<String, INDArray> grads = new LinkedHashMap<>();
    for (int from = 0; from < rows; from += size) {
      int to = Math.min(rows, from + size);
      TransitionBatch part = size == rows ? b : b.slice(from, to);
      double w = (double) (to - from) / rows;
      Map<String, INDArray> ph = new HashMap<>();
      ph.put("x_t", part.xT);
      ph.put("x_next", part.xNext);
      ph.put("eps_old", part.epsOld);
      ph.put("t", TransitionBatch.doubles(part.t));
      if (conditional) {
        ph.put("c", part.condition);
      }
      ph.put("m_x", part.column(part.meanFromSample));
      ph.put("m_o", part.column(part.meanFromOutput));
      ph.put("inv_var", part.column(part.invVariance));
      ph.put("adv", Nd4j.createFromArray(java.util.Arrays.copyOfRange(adv, from, to)).castTo(DataType.FLOAT));
      OutAndGrad og = GraphRuns.gradientsAndOutputs(sd, ph, List.of("loss", "ratio"), vars);
      loss += w * og.getOutputs().get("loss").getDouble(0);
      double[] ratio = og.getOutputs().get("ratio").castTo(DataType.DOUBLE).toDoubleVector();
      for (double r : ratio) {
        dev += Math.abs(r - 1) / rows;
        clippedRows += Math.abs(r - 1) > objective.clipRange() ? 1 : 0;
      }
      for (String name : policy.parameters().names()) {
        INDArray g = og.getGradients().get(POLICY + name);
        INDArray scaled = g == null ? Nd4j.zeros(policy.parameters().get(name).dataType(),
            policy.parameters().get(name).shape()) : g.mul(w);
        grads.merge(name, scaled, INDArray::addi);
      }
      NablaRuntime.relieveMemory();
    }
    return new Result(loss, grads, dev, clippedRows / rows);
  }
}
