package io.github.nablagfn.core.objective;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.reward.Reward;
import io.github.nablagfn.core.graph.GraphRuns;
import io.github.nablagfn.core.runtime.NablaRuntime;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The graphs of {@link ResidualNablaDb} and of plain {@link NablaDb}, built once per training run and
 * executed every iteration. For plain ∇-DB the reference terms are replaced by the noising kernel's
 * scores, computed in closed form.
 *
 * <p>Every stop-gradient quantity is computed in an earlier execution and fed to the loss graph as a
 * placeholder, so the loss graph has no stop-gradient ops and only θ and φ as trainable variables:
 * <ol>
 *   <li>score graphs (policy, reference): ε(x_t) and rev_pf = ∇_{x_t} log P_F(x_s | x_t) through the
 *       network's Jacobian, where log P_F = −Σ (x_s − μ(x_t))²/(2σ²);</li>
 *   <li>reward graph: γβ ∇_x R(x̂0_θ(x, t)) at x_t and at x_s (β ∇R(x_0) on the final step), and R itself;</li>
 *   <li>loss graph: the four terms, differentiated w.r.t. θ and φ in one backward pass.</li>
 * </ol>
 *
 * <p>The backward balance uses the policy's rev_pf and its reward score at x_t only as their sum, so
 * {@link #scores} computes that sum in one execution: the x_t-gradient of log P_F + γβR(x̂0_θ(x_t)), one
 * forward and one backward pass of the policy instead of two each (the twin's {@code nabla_step} likewise
 * shares the policy's forward pass at x_t). {@link #detailedScores} computes the two parts separately,
 * for inspection and tests; the sums agree to float rounding.
 */
public final class ResidualNablaDbLoss {
  private static final String POLICY = NablaDbGraphs.POLICY;
  private static final String FLOW = NablaDbGraphs.FLOW;

  /**
   * The loss terms of one iteration, each a mean over elements and transitions: the forward balance L_fwd,
   * the backward balance L_bwd, the terminal term L_term and the prior regulariser λ·L_reg.
   */
  public record Terms(double forwardBalance, double backwardBalance, double terminal, double regulariser) {
    public double total() {
      return forwardBalance + backwardBalance + terminal + regulariser;
    }
  }

  /**
   * The stop-gradient inputs of the loss, per row of a {@link TransitionBatch}. {@code policyBackward} is
   * rev_pf + γ_t β ∇R(x̂0_θ(x_t)), the policy's part of the backward balance; {@code revPf} and
   * {@code scoreR}, its two parts, are null unless computed by {@link #detailedScores}.
   */
  public record Scores(INDArray epsRef, INDArray scorePfRef, INDArray policyBackward, INDArray revPf,
      INDArray revPfRef, INDArray scoreR, INDArray scoreRNext, INDArray rewardNext) {}

  /** Loss terms and gradients (keyed by parameter name) of the policy θ and the flow φ. */
  public record Result(Terms terms, Map<String, INDArray> policyGradients, Map<String, INDArray> flowGradients,
      Scores scores) {}

  private final NablaDbObjective objective;
  private final NablaDbGraphs graphs;
  private final Denoiser policy;
  private final Denoiser flow;
  private final boolean conditional;
  private final int rank;
  private SameDiff policyScores; // built on first use: only detailedScores runs it
  private final SameDiff policyBackward;
  private final SameDiff referenceScores;
  private final SameDiff rewardScores;
  private final SameDiff loss;
  private final List<String> policyVars;
  private final List<String> flowVars;
  private int rowsPerExecution;

  /**
   * @param flow g_φ, or null for the forward-only variant (no flow: only L_fwd and L_reg, θ only)
   */
  public ResidualNablaDbLoss(NablaDbObjective objective, Denoiser policy, Denoiser reference, Denoiser flow,
      Reward reward) {
    if (!reward.differentiable()) {
      throw new IllegalArgumentException(objective.name() + " needs a differentiable reward; '" + reward.name()
          + "' is not");
    }
    this.objective = objective;
    this.policy = policy;
    this.flow = flow;
    this.conditional = policy.numClasses() > 0;
    this.rank = policy.sampleShape().length + 1;
    this.graphs = new NablaDbGraphs(objective, policy, flow);
    this.policyBackward = graphs.scoreGraph(policy, reward);
    // plain ∇-DB balances against the noising kernel, in closed form: no reference graph
    this.referenceScores = objective.residual() ? graphs.scoreGraph(reference, null) : null;
    this.rewardScores = graphs.rewardGraph(policy, reward);
    this.loss = graphs.lossGraph();
    this.policyVars = policy.parameters().names().stream().map(n -> POLICY + n).toList();
    this.flowVars = flow == null ? List.of() : flow.parameters().names().stream().map(n -> FLOW + n).toList();
    NablaRuntime.quietly(() -> {
      for (SameDiff sd : new SameDiff[] {policyBackward, referenceScores, rewardScores, loss}) {
        if (sd != null) {
          sd.createGradFunction();
        }
      }
      return null;
    });
  }

  private Map<String, INDArray> scorePlaceholders(TransitionBatch b, INDArray x, int[] t) {
    Map<String, INDArray> ph = new HashMap<>();
    ph.put("x", x);
    ph.put("t", TransitionBatch.doubles(t));
    if (conditional) {
      ph.put("c", b.condition);
    }
    ph.put("x_next", b.xNext);
    ph.put("m_x", b.column(b.meanFromSample));
    ph.put("m_o", b.column(b.meanFromOutput));
    ph.put("inv_var", b.column(b.invVariance));
    return ph;
  }

  /**
   * Evaluates at most {@code rows} transitions per graph execution (0 = all in one execution, the
   * default). SameDiff keeps a backward pass's intermediate arrays until the execution ends, so memory
   * grows with the rows per execution: one execution over 40 rows of the small U-Net (K = 5, B = 8) went
   * past 15 GB; chunks bound it. The loss terms are means over rows, so chunk results are combined with
   * weights rows_chunk/rows: the same values up to float rounding.
   */
  public ResidualNablaDbLoss rowsPerExecution(int rows) {
    this.rowsPerExecution = Columns.checkRowsPerExecution(rows);
    return this;
  }

  private int chunk(TransitionBatch b) {
    return Columns.chunk(rowsPerExecution, b.rows());
  }

  /**
   * Computes every stop-gradient input of the loss for a batch of transitions; the policy's rev_pf and
   * reward score at x_t only as their sum ({@link Scores#policyBackward}), in one execution.
   */
  public Scores scores(TransitionBatch b) {
    return scores(b, false);
  }

  /**
   * As {@link #scores}, with rev_pf and the reward score at x_t also computed separately (one more
   * execution of the policy per chunk); {@code policyBackward} is then their sum.
   */
  public Scores detailedScores(TransitionBatch b) {
    return scores(b, true);
  }

  private Scores scores(TransitionBatch b, boolean detailed) {
    if (chunk(b) >= b.rows()) {
      return scoresOnce(b, detailed);
    }
    List<Scores> parts = new java.util.ArrayList<>();
    RowChunks.forEach(rowsPerExecution, b.rows(), (from, to, w) -> parts.add(scoresOnce(b.slice(from, to), detailed)));
    return new Scores(stack(parts, Scores::epsRef), stack(parts, Scores::scorePfRef),
        stack(parts, Scores::policyBackward), stack(parts, Scores::revPf), stack(parts, Scores::revPfRef),
        stack(parts, Scores::scoreR), stack(parts, Scores::scoreRNext), stack(parts, Scores::rewardNext));
  }

  private static INDArray stack(List<Scores> parts, java.util.function.Function<Scores, INDArray> field) {
    if (field.apply(parts.get(0)) == null) {
      return null;
    }
    return Nd4j.concat(0, parts.stream().map(field).toArray(INDArray[]::new));
  }

  private static Scores slice(Scores s, int from, int to) {
    return new Scores(Columns.rows(s.epsRef(), from, to), Columns.rows(s.scorePfRef(), from, to),
        Columns.rows(s.policyBackward(), from, to), Columns.rows(s.revPf(), from, to),
        Columns.rows(s.revPfRef(), from, to), Columns.rows(s.scoreR(), from, to),
        Columns.rows(s.scoreRNext(), from, to), Columns.rows(s.rewardNext(), from, to));
  }

  private Scores scoresOnce(TransitionBatch b, boolean detailed) {
    // 1. the policy at x_t: rev_pf + γ_t β ∇R(x̂0(x_t)) in one execution (or each part on its own)
    Map<String, INDArray> ph = scorePlaceholders(b, b.xT, b.t);
    INDArray revPf = null;
    INDArray scoreR = null;
    INDArray policyBwd;
    if (detailed) {
      revPf = GraphRuns.gradients(policyScores(), ph, List.of("x")).get("x");
      NablaRuntime.relieveMemory();
      scoreR = rewardScore(b, b.xT, b.t, b.x0FromSampleT, b.x0FromOutputT, b.rewardWeightT)[0];
      policyBwd = revPf.add(scoreR);
    } else {
      Map<String, INDArray> both = new HashMap<>(ph);
      both.putAll(rewardPlaceholders(b, b.x0FromSampleT, b.x0FromOutputT, b.rewardWeightT));
      policyBwd = GraphRuns.gradients(policyBackward, both, List.of("x")).get("x");
      NablaRuntime.relieveMemory();
    }
    // 2. ε and rev_pf of the reference at x_t
    INDArray epsRef;
    INDArray scorePfRef;
    INDArray revPfRef;
    if (objective.residual()) {
      OutAndGrad ref = GraphRuns.gradientsAndOutputs(referenceScores, ph, List.of("out"), List.of("x"));
      NablaRuntime.relieveMemory();
      epsRef = ref.getOutputs().get("out");
      INDArray muRef = b.xT.mul(b.column(b.meanFromSample)).addi(epsRef.mul(b.column(b.meanFromOutput)));
      scorePfRef = muRef.subi(b.xNext).muli(b.column(b.invVariance));
      revPfRef = ref.getGradients().get("x");
    } else {
      // log P_B(x_t | x_s) = −‖x_t − r x_s‖²/(2(1 − r²)): ∇_{x_s} = r·d/(1 − r²), ∇_{x_t} = −d/(1 − r²)
      INDArray r = b.column(b.noisingScale);
      INDArray d = b.xT.sub(b.xNext.mul(r)).muli(b.column(b.noisingInvVariance));
      epsRef = null;
      scorePfRef = d.mul(r);
      revPfRef = d.neg();
    }
    // 3. the reward score at x_s (γ_s β ∇R(x̂0(x_s)), β ∇R(x_0) at the end)
    INDArray[] atNext = rewardScore(b, b.xNext, b.tNext, b.x0FromSampleNext, b.x0FromOutputNext, b.rewardWeightNext);
    return new Scores(epsRef, scorePfRef, policyBwd, revPf, revPfRef, scoreR, atNext[0], atNext[1]);
  }

  private synchronized SameDiff policyScores() {
    if (policyScores == null) {
      policyScores = NablaRuntime.quietly(() -> {
        SameDiff sd = graphs.scoreGraph(policy, null);
        sd.createGradFunction();
        return sd;
      });
    }
    return policyScores;
  }

  private Map<String, INDArray> rewardPlaceholders(TransitionBatch b, double[] aX, double[] aO, double[] w) {
    Map<String, INDArray> ph = new HashMap<>();
    ph.put("a_x", b.column(aX));
    ph.put("a_o", b.column(aO));
    ph.put("w", Nd4j.createFromArray(w).castTo(DataType.FLOAT));
    return ph;
  }

  private INDArray[] rewardScore(TransitionBatch b, INDArray x, int[] t, double[] aX, double[] aO, double[] w) {
    Map<String, INDArray> ph = new HashMap<>();
    ph.put("x", x);
    ph.put("t", TransitionBatch.doubles(t));
    if (conditional) {
      ph.put("c", b.condition);
    }
    ph.putAll(rewardPlaceholders(b, aX, aO, w));
    OutAndGrad og = GraphRuns.gradientsAndOutputs(rewardScores, ph, List.of("reward"), List.of("x"));
    NablaRuntime.relieveMemory();
    return new INDArray[] {og.getGradients().get("x"), og.getOutputs().get("reward")};
  }

  /** Loss terms and the gradients of θ and φ for a batch of transitions. */
  public Result compute(TransitionBatch b) {
    return compute(b, scores(b));
  }

  /** Loss terms and gradients with the stop-gradient inputs {@code s} held fixed. */
  public Result compute(TransitionBatch b, Scores s) {
    if (chunk(b) >= b.rows()) {
      return computeOnce(b, s);
    }
    double[] terms = new double[4]; // forward balance, backward balance, terminal, regulariser
    Map<String, INDArray> gPolicy = new LinkedHashMap<>();
    Map<String, INDArray> gFlow = new LinkedHashMap<>();
    RowChunks.forEach(rowsPerExecution, b.rows(), (from, to, w) -> {
      Result r = computeOnce(b.slice(from, to), slice(s, from, to));
      terms[0] += w * r.terms().forwardBalance();
      terms[1] += w * r.terms().backwardBalance();
      terms[2] += w * r.terms().terminal();
      terms[3] += w * r.terms().regulariser();
      RowChunks.addWeighted(gPolicy, r.policyGradients(), w);
      RowChunks.addWeighted(gFlow, r.flowGradients(), w);
    });
    return new Result(new Terms(terms[0], terms[1], terms[2], terms[3]), gPolicy, gFlow, s);
  }

  private Result computeOnce(TransitionBatch b, Scores s) {
    Map<String, INDArray> ph = TransitionInputs.feed(b, conditional);
    ph.put("t_next", TransitionBatch.doubles(b.tNext));
    ph.put("non_final", b.mask(false));
    ph.put("final", b.mask(true));
    if (objective.residual()) {
      ph.put("eps_ref", s.epsRef());
    } else {
      ph.put("score_base", s.scorePfRef());
    }
    ph.put("score_r_next", s.scoreRNext());
    ph.put("policy_bwd", s.policyBackward());
    ph.put("rev_pf_ref", s.revPfRef());
    if (graphs.weighted()) {
      double[] w = new double[b.rows()];
      for (int i = 0; i < w.length; i++) {
        w[i] = objective.forwardWeighting().weight(b.meanFromOutput[i], b.invVariance[i]);
      }
      ph.put("fwd_w", b.column(w));
    }
    List<String> vars = new java.util.ArrayList<>(policyVars);
    vars.addAll(flowVars);
    OutAndGrad og = GraphRuns.gradientsAndOutputs(loss, ph,
        List.of("loss_forward_balance", "loss_backward_balance", "loss_terminal", "loss_regulariser"), vars);
    NablaRuntime.relieveMemory();
    Map<String, INDArray> out = og.getOutputs();
    Terms terms = new Terms(out.get("loss_forward_balance").getDouble(0),
        out.get("loss_backward_balance").getDouble(0), out.get("loss_terminal").getDouble(0),
        out.get("loss_regulariser").getDouble(0));
    return new Result(terms, RowChunks.byParameter(og.getGradients(), POLICY, policy),
        RowChunks.byParameter(og.getGradients(), FLOW, flow), s);
  }

  /**
   * The learned residual log-flow gradient ∇log F̃(x_t) ≈ γ_t β ∇R(x̂0_θ(x_t)) + g_φ(x_t, t) at x (all
   * rows at timestep t), for inspection and tests.
   */
  public INDArray logFlowScore(INDArray x, int t, INDArray condition, double x0FromSample, double x0FromOutput,
      double gammaBeta, FlowEvaluator flowOut) {
    int n = Math.toIntExact(x.size(0));
    double[] aX = new double[n];
    double[] aO = new double[n];
    double[] w = new double[n];
    int[] ts = new int[n];
    java.util.Arrays.fill(aX, x0FromSample);
    java.util.Arrays.fill(aO, x0FromOutput);
    java.util.Arrays.fill(w, gammaBeta);
    java.util.Arrays.fill(ts, t);
    Map<String, INDArray> ph = new HashMap<>();
    ph.put("x", x);
    ph.put("t", TransitionBatch.doubles(ts));
    if (conditional) {
      ph.put("c", condition);
    }
    ph.put("a_x", Columns.of(aX, rank));
    ph.put("a_o", Columns.of(aO, rank));
    ph.put("w", Nd4j.createFromArray(w).castTo(DataType.FLOAT));
    INDArray rewardPart = GraphRuns.gradients(rewardScores, ph, List.of("x")).get("x");
    return flowOut == null ? rewardPart : rewardPart.addi(flowOut.evaluate(x, ts, condition));
  }

  /** Evaluates g_φ eagerly. */
  @FunctionalInterface
  public interface FlowEvaluator {
    INDArray evaluate(INDArray x, int[] t, INDArray condition);
  }
}
