package io.github.nablagfn.core.objective;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.InputGradients;
import io.github.nablagfn.core.reward.Reward;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The graphs {@link ResidualNablaDbLoss} executes: the score graphs of a network at x_t (rev_pf, with the
 * reward score added for the policy), the reward graph (γβ∇R(x̂0_θ)), and the loss graph of the four
 * balance terms, differentiated w.r.t. θ and φ. Every stop-gradient input is a placeholder.
 */
final class NablaDbGraphs {
  static final String POLICY = "policy.";
  static final String FLOW = "flow.";

  private final NablaDbObjective objective;
  private final Denoiser policy;
  private final Denoiser flow;
  private final boolean conditional;
  private final int rank;

  NablaDbGraphs(NablaDbObjective objective, Denoiser policy, Denoiser flow) {
    this.objective = objective;
    this.policy = policy;
    this.flow = flow;
    this.conditional = policy.numClasses() > 0;
    this.rank = policy.sampleShape().length + 1;
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
  SameDiff scoreGraph(Denoiser net, Reward reward) {
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
  SameDiff rewardGraph(Denoiser net, Reward reward) {
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

  SameDiff lossGraph() {
    SameDiff sd = SameDiff.create();
    TransitionInputs in = TransitionInputs.declare(sd, policy.sampleShape(), conditional);
    SDVariable xT = in.xT();
    SDVariable xNext = in.xNext();
    SDVariable t = in.t();
    SDVariable tNext = sd.placeHolder("t_next", DataType.DOUBLE, -1);
    SDVariable c = in.c();
    SDVariable mX = in.mX();
    SDVariable mO = in.mO();
    SDVariable invVar = in.invVar();
    SDVariable nonFinal = sd.placeHolder("non_final", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable fin = sd.placeHolder("final", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable epsRef = objective.residual() ? sd.placeHolder("eps_ref", DataType.FLOAT, samplePlaceholder()) : null;
    SDVariable scoreRNext = sd.placeHolder("score_r_next", DataType.FLOAT, samplePlaceholder());
    SDVariable policyBwd = sd.placeHolder("policy_bwd", DataType.FLOAT, samplePlaceholder());
    SDVariable revPfRef = sd.placeHolder("rev_pf_ref", DataType.FLOAT, samplePlaceholder());
    SDVariable epsOld = in.epsOld();

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
  boolean weighted() {
    return !objective.forwardWeighting().isScore();
  }

}
