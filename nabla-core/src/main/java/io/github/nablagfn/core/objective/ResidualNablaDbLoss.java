package io.github.nablagfn.core.objective;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.InputGradients;
import io.github.nablagfn.core.reward.Reward;
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
  private static final String POLICY = "policy.";
  private static final String FLOW = "flow.";

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
    this.policyBackward = scoreGraph(policy, reward);
    // plain ∇-DB balances against the noising kernel, in closed form: no reference graph
    this.referenceScores = objective.residual() ? scoreGraph(reference, null) : null;
    this.rewardScores = rewardGraph(policy, reward);
    this.loss = lossGraph();
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

  private long[] samplePlaceholder() {
    return io.github.nablagfn.core.model.DenoiserGraph.withBatch(-1, policy.sampleShape());
  }

  private SDVariable conditionPlaceholder(SameDiff sd) {
    return conditional ? sd.placeHolder("c", DataType.INT64, -1) : null;
  }

  /**
   * ε(x), and log P_F(x_s | x) whose x-gradient is rev_pf; with a reward, log P_F + Σ_rows w_row ·
   * R(x̂0(x, t)) (same placeholders as {@link #rewardGraph}), whose x-gradient is rev_pf + γβ∇R.
   * Parameters are constants here.
   */
  private SameDiff scoreGraph(Denoiser net, Reward reward) {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, samplePlaceholder());
    SDVariable t = sd.placeHolder("t", DataType.DOUBLE, -1);
    SDVariable c = conditionPlaceholder(sd);
    SDVariable xNext = sd.placeHolder("x_next", DataType.FLOAT, samplePlaceholder());
    SDVariable mX = sd.placeHolder("m_x", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable mO = sd.placeHolder("m_o", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable invVar = sd.placeHolder("inv_var", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable xt = InputGradients.track(sd, x);
    SDVariable out = net.forward(new GraphScope(sd, "net.", net.parameters(), false), xt, t, c);
    out.rename("out");
    SDVariable d = xNext.sub(xt.mul(mX).add(out.mul(mO)));
    SDVariable logPf = d.mul(d).mul(invVar).sum().mul(-0.5).rename("log_pf");
    if (reward == null) {
      sd.setLossVariables("log_pf");
      return sd;
    }
    SDVariable r = weightedReward(sd, reward, xt, out, c);
    logPf.add(r).rename("log_pf_plus_reward");
    sd.setLossVariables("log_pf_plus_reward");
    return sd;
  }

  /** Σ_rows w_row · R(a_x x + a_o out): placeholders a_x, a_o (columns) and w (rows); R is "reward". */
  private SDVariable weightedReward(SameDiff sd, Reward reward, SDVariable x, SDVariable out, SDVariable c) {
    SDVariable aX = sd.placeHolder("a_x", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable aO = sd.placeHolder("a_o", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable w = sd.placeHolder("w", DataType.FLOAT, -1);
    SDVariable x0 = x.mul(aX).add(out.mul(aO));
    SDVariable r = reward.forward(new GraphScope(sd, "reward.", reward.parameters(), false), x0, c);
    r.rename("reward");
    return r.mul(w).sum();
  }

  /** Σ_rows w_row · R(x̂0_θ(x, t)); its x-gradient is γβ ∇R per row. */
  private SameDiff rewardGraph(Denoiser net, Reward reward) {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, samplePlaceholder());
    SDVariable t = sd.placeHolder("t", DataType.DOUBLE, -1);
    SDVariable c = conditionPlaceholder(sd);
    SDVariable xt = InputGradients.track(sd, x);
    SDVariable out = net.forward(new GraphScope(sd, "net.", net.parameters(), false), xt, t, c);
    weightedReward(sd, reward, xt, out, c).rename("weighted");
    sd.setLossVariables("weighted");
    return sd;
  }

  private SameDiff lossGraph() {
    SameDiff sd = SameDiff.create();
    SDVariable xT = sd.placeHolder("x_t", DataType.FLOAT, samplePlaceholder());
    SDVariable xNext = sd.placeHolder("x_next", DataType.FLOAT, samplePlaceholder());
    SDVariable t = sd.placeHolder("t", DataType.DOUBLE, -1);
    SDVariable tNext = sd.placeHolder("t_next", DataType.DOUBLE, -1);
    SDVariable c = conditionPlaceholder(sd);
    SDVariable mX = sd.placeHolder("m_x", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable mO = sd.placeHolder("m_o", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable invVar = sd.placeHolder("inv_var", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable nonFinal = sd.placeHolder("non_final", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable fin = sd.placeHolder("final", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable epsRef = objective.residual() ? sd.placeHolder("eps_ref", DataType.FLOAT, samplePlaceholder()) : null;
    SDVariable scoreRNext = sd.placeHolder("score_r_next", DataType.FLOAT, samplePlaceholder());
    SDVariable policyBwd = sd.placeHolder("policy_bwd", DataType.FLOAT, samplePlaceholder());
    SDVariable revPfRef = sd.placeHolder("rev_pf_ref", DataType.FLOAT, samplePlaceholder());
    SDVariable epsOld = sd.placeHolder("eps_old", DataType.FLOAT, samplePlaceholder());

    // 1. policy: ε_θ(x_t), μ_θ = m_x x_t + m_o ε, score_pf = −(x_s − μ_θ)/σ²
    GraphScope theta = GraphScope.of(sd, POLICY, policy.parameters());
    SDVariable eps = policy.forward(theta, xT, t, c);
    SDVariable scorePf = xT.mul(mX).add(eps.mul(mO)).sub(xNext).mul(invVar);
    // score_pf_ref with the very same ops, so θ = ref gives a difference of exactly 0; plain ∇-DB feeds
    // ∇_{x_s} log P_B(x_t | x_s) instead
    SDVariable scorePfRef = objective.residual() ? xT.mul(mX).add(epsRef.mul(mO)).sub(xNext).mul(invVar)
        : sd.placeHolder("score_base", DataType.FLOAT, samplePlaceholder());
    // 2. flow: G = g_φ(x_s, t_s) (t_s = 0 on the final step, where x_s = x_0), g_t = g_φ(x_t, t)
    SDVariable fwdTarget = scorePfRef.add(scoreRNext);
    if (flow != null) {
      GraphScope phi = GraphScope.of(sd, FLOW, flow.parameters());
      SDVariable g = flow.forward(phi, xNext, tNext, c);
      fwdTarget = fwdTarget.add(g.mul(nonFinal)); // g_φ(x_0) := 0 in the forward balance
      SDVariable gT = flow.forward(phi, xT, t, c);
      SDVariable bwd = policyBwd.sub(revPfRef).add(gT); // rev_pf + γβ∇R(x̂0(x_t)) − rev_pf_ref + g_φ(x_t)
      bwd.mul(bwd).mean().rename("loss_backward_balance");
      g.mul(g).mul(fin).mean().rename("loss_terminal");
    } else {
      sd.constant("loss_backward_balance", Nd4j.scalar(0f));
      sd.constant("loss_terminal", Nd4j.scalar(0f));
    }
    // 3. forward balance and the prior regulariser
    SDVariable fwd = scorePf.sub(fwdTarget);
    if (weighted()) {
      // each row's residual in the unit ForwardWeighting names: its squares times a per-row weight
      SDVariable fwdW = sd.placeHolder("fwd_w", DataType.FLOAT, Columns.placeholderShape(rank));
      fwd.mul(fwd).mul(fwdW).mean().rename("loss_forward_balance");
    } else {
      fwd.mul(fwd).mean().rename("loss_forward_balance");
    }
    SDVariable dEps = eps.sub(epsOld);
    dEps.mul(dEps).mean().mul(objective.regScale()).rename("loss_regulariser");
    sd.getVariable("loss_forward_balance").add(sd.getVariable("loss_backward_balance"))
        .add(sd.getVariable("loss_terminal")).add(sd.getVariable("loss_regulariser")).rename("loss");
    sd.setLossVariables("loss");
    return sd;
  }

  /** Whether L_fwd weights its rows (score units, the default, build the paper's graph unchanged). */
  private boolean weighted() {
    return !objective.forwardWeighting().isScore();
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
    int size = chunk(b);
    if (size >= b.rows()) {
      return scoresOnce(b, detailed);
    }
    List<Scores> parts = new java.util.ArrayList<>();
    for (int from = 0; from < b.rows(); from += size) {
      parts.add(scoresOnce(b.slice(from, Math.min(b.rows(), from + size)), detailed));
    }
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
        SameDiff sd = scoreGraph(policy, null);
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
    int size = chunk(b);
    if (size >= b.rows()) {
      return computeOnce(b, s);
    }
    double fwd = 0;
    double bwd = 0;
    double term = 0;
    double reg = 0;
    Map<String, INDArray> gPolicy = null;
    Map<String, INDArray> gFlow = null;
    for (int from = 0; from < b.rows(); from += size) {
      int to = Math.min(b.rows(), from + size);
      double w = (double) (to - from) / b.rows();
      Result r = computeOnce(b.slice(from, to), slice(s, from, to));
      fwd += w * r.terms().forwardBalance();
      bwd += w * r.terms().backwardBalance();
      term += w * r.terms().terminal();
      reg += w * r.terms().regulariser();
      gPolicy = accumulate(gPolicy, r.policyGradients(), w);
      gFlow = accumulate(gFlow, r.flowGradients(), w);
    }
    return new Result(new Terms(fwd, bwd, term, reg), gPolicy, gFlow, s);
  }

  private static Map<String, INDArray> accumulate(Map<String, INDArray> sum, Map<String, INDArray> g, double w) {
    if (sum == null) {
      Map<String, INDArray> m = new LinkedHashMap<>();
      g.forEach((k, v) -> m.put(k, v.mul(w)));
      return m;
    }
    g.forEach((k, v) -> sum.get(k).addi(v.mul(w)));
    return sum;
  }

  private Result computeOnce(TransitionBatch b, Scores s) {
    Map<String, INDArray> ph = new HashMap<>();
    ph.put("x_t", b.xT);
    ph.put("x_next", b.xNext);
    ph.put("t", TransitionBatch.doubles(b.t));
    ph.put("t_next", TransitionBatch.doubles(b.tNext));
    if (conditional) {
      ph.put("c", b.condition);
    }
    ph.put("m_x", b.column(b.meanFromSample));
    ph.put("m_o", b.column(b.meanFromOutput));
    ph.put("inv_var", b.column(b.invVariance));
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
    ph.put("eps_old", b.epsOld);
    if (weighted()) {
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
    return new Result(terms, strip(og.getGradients(), POLICY, policy), strip(og.getGradients(), FLOW, flow), s);
  }

  private static Map<String, INDArray> strip(Map<String, INDArray> grads, String prefix, Denoiser net) {
    Map<String, INDArray> m = new LinkedHashMap<>();
    if (net == null) {
      return m;
    }
    for (String name : net.parameters().names()) {
      INDArray g = grads.get(prefix + name);
      // a parameter no loss term reaches has zero gradient (SameDiff returns none)
      m.put(name, g != null ? g : Nd4j.zeros(net.parameters().get(name).dataType(), net.parameters().get(name).shape()));
    }
    return m;
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
