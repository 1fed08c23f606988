package io.github.nablagfn.core.objective;

import io.github.nablagfn.core.graph.GraphRuns;
import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.reward.Reward;
import io.github.nablagfn.core.runtime.NablaRuntime;
import java.util.ArrayList;
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
 * The graph of the DB family ({@link DagDb}, {@link ResidualDb}). Per row (one transition x_t → x_s):
 * <pre>
 *   log P_F^θ  = −½ Σ (x_s − μ_θ(x_t))²/σ²                               (trains θ)
 *   ref        = −½ Σ (x_s − μ_ref(x_t))²/σ²                             Residual DB
 *              = log P_B(x_t | x_s) + (d/2)·log(2πσ²)                     DAG-DB (P_F's normaliser moved here)
 *   Δ          = hint_t + ḡ_φ(x_t, t) + log P_F^θ − ref − hint_s − ḡ_φ(x_s, s)·[x_s ≠ x_0]
 *   L_balance  = mean over rows of Δ²
 * </pre>
 * with hint = γβ·R(x̂0) at the sampling-time prediction (β·R(x_0) at x_0) and ḡ_φ the mean over elements of
 * the flow network's output (trains φ). Every stop-gradient input — the reference's ε, the DAG-DB base, the
 * hints — is computed before the loss graph and fed as a placeholder; μ_ref uses the very ops of μ_θ, so θ =
 * reference gives a log-ratio of exactly 0. Rows are evaluated in chunks ({@link #rowsPerExecution}).
 */
public final class DbLoss {
  private static final String POLICY = "policy.";
  private static final String FLOW = "flow.";

  /**
   * The balance term and the gradients (by parameter name) of θ and φ; {@code rewardNext} holds R(x_s) per
   * row where x_s = x_0 (NaN elsewhere).
   */
  public record Result(double balance, Map<String, INDArray> policyGradients, Map<String, INDArray> flowGradients,
      double[] rewardNext) {}

  /** The stop-gradient inputs per row: the reference's log-density (or DAG-DB's base) and the two hints. */
  public record Inputs(INDArray epsRef, double[] base, double[] hintT, double[] hintNext, double[] rewardNext) {}

  private final DbObjective objective;
  private final Denoiser policy;
  private final Denoiser flow;
  private final Reward reward;
  private final DenoiserGraph reference;
  private final boolean conditional;
  private final SameDiff sd;
  private final List<String> vars;
  private int rowsPerExecution;

  /**
   * @param reference the pretrained policy (used by Residual DB only)
   * @param flow the flow network g_φ, or null: the log-flow is the reward hint alone and only θ trains
   */
  public DbLoss(DbObjective objective, Denoiser policy, Denoiser reference, Denoiser flow, Reward reward) {
    this.objective = objective;
    this.policy = policy;
    this.flow = flow;
    this.reward = reward;
    this.reference = objective.residual() ? new DenoiserGraph(reference) : null;
    this.conditional = policy.numClasses() > 0;
    this.sd = graph();
    List<String> v = new ArrayList<>(policy.parameters().names().stream().map(n -> POLICY + n).toList());
    if (flow != null) {
      flow.parameters().names().forEach(n -> v.add(FLOW + n));
    }
    this.vars = v;
    NablaRuntime.quietly(() -> {
      sd.createGradFunction();
      return null;
    });
  }

  public DbLoss rowsPerExecution(int rows) {
    this.rowsPerExecution = Columns.checkRowsPerExecution(rows);
    return this;
  }

  private SameDiff graph() {
    SameDiff g = SameDiff.create();
    long[] shape = policy.sampleShape();
    TransitionInputs in = TransitionInputs.declare(g, shape, conditional);
    SDVariable base = objective.residual()
        ? logDensity(in, g.placeHolder("eps_ref", DataType.FLOAT, DenoiserGraph.withBatch(-1, shape)))
        : g.placeHolder("base", DataType.FLOAT, -1);
    SDVariable hintT = g.placeHolder("hint_t", DataType.FLOAT, -1);
    SDVariable hintNext = g.placeHolder("hint_next", DataType.FLOAT, -1);
    SDVariable eps = policy.forward(GraphScope.of(g, POLICY, policy.parameters()), in.xT(), in.t(), in.c());
    SDVariable delta = hintT.add(logDensity(in, eps)).sub(base).sub(hintNext);
    if (flow != null) {
      SDVariable tNext = g.placeHolder("t_next", DataType.DOUBLE, -1);
      SDVariable nonFinal = g.placeHolder("non_final", DataType.FLOAT, -1);
      GraphScope phi = GraphScope.of(g, FLOW, flow.parameters());
      double elements = 1.0 / DbLoss.elements(shape);
      SDVariable fT = Columns.sumPerRow(flow.forward(phi, in.xT(), in.t(), in.c()), shape).mul(elements);
      SDVariable fNext = Columns.sumPerRow(flow.forward(phi, in.xNext(), tNext, in.c()), shape).mul(elements);
      delta = delta.add(fT).sub(fNext.mul(nonFinal));
    }
    delta.mul(delta).mean().rename("loss_balance");
    g.setLossVariables("loss_balance");
    return g;
  }

  /** −½ Σ (x_s − m_x·x_t − m_o·out)²/σ² per row, (N). */
  private SDVariable logDensity(TransitionInputs in, SDVariable out) {
    SDVariable d = in.xNext().sub(in.xT().mul(in.mX()).add(out.mul(in.mO())));
    return Columns.sumPerRow(d.mul(d).mul(in.invVar()), policy.sampleShape()).mul(-0.5);
  }

  private static long elements(long[] shape) {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return n;
  }

  /**
   * The stop-gradient inputs of {@code b}: the reference's ε at x_t (Residual DB) or the DAG-DB base, computed
   * in double from the noising kernel, and the reward hints from the batch's sampling-time predictions.
   */
  public Inputs inputs(TransitionBatch b) {
    if (b.epsNext == null) {
      throw new IllegalArgumentException(objective.name() + " needs the sampling-time model output at every x_s "
          + "of its transitions (the reward hint); the trajectory lacks some");
    }
    int n = b.rows();
    INDArray epsRef = null;
    double[] base = null;
    if (objective.residual()) {
      List<INDArray> parts = new ArrayList<>();
      RowChunks.forEach(rowsPerExecution, n, (from, to, w) -> {
        INDArray x = Columns.rowsOrWhole(b.xT, from, to);
        INDArray c = b.condition == null ? null : Columns.rowsOrWhole(b.condition, from, to);
        parts.add(reference.predict(x, java.util.Arrays.copyOfRange(b.t, from, to), c));
      });
      epsRef = parts.size() == 1 ? parts.get(0) : Nd4j.concat(0, parts.toArray(INDArray[]::new));
    } else {
      base = dagBase(b);
    }
    INDArray x0T = b.xT.mul(b.column(b.x0FromSampleT)).addi(b.epsOld.mul(b.column(b.x0FromOutputT)));
    INDArray x0Next = b.xNext.mul(b.column(b.x0FromSampleNext)).addi(b.epsNext.mul(b.column(b.x0FromOutputNext)));
    double[] rT = rewards(x0T, b);
    double[] rNext = rewards(x0Next, b);
    double[] hintT = new double[n];
    double[] hintNext = new double[n];
    double[] rewardNext = new double[n];
    for (int i = 0; i < n; i++) {
      hintT[i] = b.rewardWeightT[i] * rT[i];
      hintNext[i] = b.rewardWeightNext[i] * rNext[i];
      rewardNext[i] = b.isFinal[i] ? rNext[i] : Double.NaN;
    }
    return new Inputs(epsRef, base, hintT, hintNext, rewardNext);
  }

  /**
   * log P_B(x_t | x_s) + (d/2)·log(2πσ²) per row, in double: P_B = N(r·x_s, (1 − r²)·I), r = √(ᾱ_t/ᾱ_s);
   * the second term is −(P_F's normaliser), so that the graph's log P_F may leave it out.
   */
  static double[] dagBase(TransitionBatch b) {
    int n = b.rows();
    long d = b.xT.length() / n;
    double[][] t = b.xT.castTo(DataType.DOUBLE).reshape(n, d).toDoubleMatrix();
    double[][] s = b.xNext.castTo(DataType.DOUBLE).reshape(n, d).toDoubleMatrix();
    double[] base = new double[n];
    for (int i = 0; i < n; i++) {
      double r = b.noisingScale[i];
      double inv = b.noisingInvVariance[i];
      double sq = 0;
      for (int j = 0; j < d; j++) {
        double e = t[i][j] - r * s[i][j];
        sq += e * e;
      }
      double logPb = -0.5 * sq * inv - 0.5 * d * Math.log(2 * Math.PI / inv);
      double pfNormaliser = -0.5 * d * Math.log(2 * Math.PI / b.invVariance[i]);
      base[i] = logPb - pfNormaliser;
    }
    return base;
  }

  private double[] rewards(INDArray x0, TransitionBatch b) {
    double[] out = new double[b.rows()];
    RowChunks.forEach(rowsPerExecution, b.rows(), (from, to, w) -> {
      INDArray x = Columns.rowsOrWhole(x0, from, to);
      INDArray c = b.condition == null ? null : Columns.rowsOrWhole(b.condition, from, to);
      double[] r = reward.base().evaluate(x, c).castTo(DataType.DOUBLE).toDoubleVector();
      System.arraycopy(r, 0, out, from, to - from);
    });
    return out;
  }

  /** The loss and gradients on {@code b}. */
  public Result compute(TransitionBatch b) {
    return compute(b, inputs(b));
  }

  /** The loss and gradients on {@code b} with its stop-gradient inputs {@code in} ({@link #inputs}). */
  public Result compute(TransitionBatch b, Inputs in) {
    double[] loss = new double[1];
    Map<String, INDArray> policyGrads = new LinkedHashMap<>();
    Map<String, INDArray> flowGrads = new LinkedHashMap<>();
    RowChunks.forEach(rowsPerExecution, b.rows(), (from, to, w) -> {
      TransitionBatch part = to - from == b.rows() ? b : b.slice(from, to);
      Map<String, INDArray> ph = TransitionInputs.feed(part, conditional);
      if (objective.residual()) {
        ph.put("eps_ref", Columns.rowsOrWhole(in.epsRef(), from, to));
      } else {
        ph.put("base", floats(in.base(), from, to));
      }
      ph.put("hint_t", floats(in.hintT(), from, to));
      ph.put("hint_next", floats(in.hintNext(), from, to));
      if (flow != null) {
        ph.put("t_next", TransitionBatch.doubles(part.tNext));
        double[] nonFinal = new double[to - from];
        for (int i = 0; i < nonFinal.length; i++) {
          nonFinal[i] = part.isFinal[i] ? 0 : 1;
        }
        ph.put("non_final", floats(nonFinal, 0, nonFinal.length));
      }
      OutAndGrad og = GraphRuns.gradientsAndOutputs(sd, ph, List.of("loss_balance"), vars);
      loss[0] += w * og.getOutputs().get("loss_balance").getDouble(0);
      RowChunks.addWeighted(policyGrads, RowChunks.byParameter(og.getGradients(), POLICY, policy), w);
      RowChunks.addWeighted(flowGrads, RowChunks.byParameter(og.getGradients(), FLOW, flow), w);
      NablaRuntime.relieveMemory();
    });
    return new Result(loss[0], policyGrads, flowGrads, in.rewardNext());
  }

  private static INDArray floats(double[] v, int from, int to) {
    return Nd4j.createFromArray(java.util.Arrays.copyOfRange(v, from, to)).castTo(DataType.FLOAT);
  }
}
