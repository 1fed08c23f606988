package io.github.nablagfn.core.objective;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.InputGradients;
import io.github.nablagfn.core.reward.Reward;
import io.github.nablagfn.core.graph.GraphRuns;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.GaussianStep;
import io.github.nablagfn.core.sampler.Sampler;
import java.util.ArrayList;
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
 * The reward-backpropagation baselines ({@link RewardBackprop}) on sampled trajectories, with the noise of
 * every step held fixed. Each step is written y = a·x + b·out_θ(x, t, c) + d (a, b the step's
 * coefficients, d = σz the recorded noise; for ReFL's one-step prediction, y = x̂0 and d = 0), and the
 * gradient of L = −mean_b R(y_last) is propagated backwards one step at a time by a vector–Jacobian
 * product: with g = ∂L/∂y, one graph execution of s = Σ g·y gives ∂L/∂θ (accumulated) and ∂L/∂x, the g of
 * the step before. Memory is therefore that of one denoiser evaluation at any depth (checkpointing by
 * recomputation), and rows are processed in chunks.
 */
public final class ChainBackprop {
  private static final String POLICY = "policy.";

  /** Loss −mean R, the rewards R of the sampled x_0 (B), and ∂loss/∂θ by parameter name. */
  public record Result(double loss, INDArray rewards, Map<String, INDArray> policyGradients) {}

  private final Denoiser policy;
  private final boolean conditional;
  private final int rank;
  private final SameDiff vjp;
  private final SameDiff rewardGrad;
  private final List<String> policyVars;
  private final DenoiserGraph eager;
  private int rowsPerExecution;

  public ChainBackprop(Denoiser policy, Reward reward) {
    if (!reward.differentiable()) {
      throw new IllegalArgumentException("reward backpropagation needs a differentiable reward; '" + reward.name()
          + "' is not");
    }
    this.policy = policy;
    this.conditional = policy.numClasses() > 0;
    this.rank = policy.sampleShape().length + 1;
    this.vjp = vjpGraph();
    this.rewardGrad = rewardGraph(reward);
    this.policyVars = policy.parameters().names().stream().map(n -> POLICY + n).toList();
    this.eager = new DenoiserGraph(policy);
    NablaRuntime.quietly(() -> {
      vjp.createGradFunction();
      rewardGrad.createGradFunction();
      return null;
    });
  }

  /** At most {@code rows} rows per graph execution (0 = all). */
  public ChainBackprop rowsPerExecution(int rows) {
    this.rowsPerExecution = Columns.checkRowsPerExecution(rows);
    return this;
  }

  private long[] samplePlaceholder() {
    return DenoiserGraph.withBatch(-1, policy.sampleShape());
  }

  private SameDiff vjpGraph() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, samplePlaceholder());
    SDVariable t = sd.placeHolder("t", DataType.DOUBLE, -1);
    SDVariable c = conditional ? sd.placeHolder("c", DataType.INT64, -1) : null;
    SDVariable a = sd.placeHolder("a", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable b = sd.placeHolder("b", DataType.FLOAT, Columns.placeholderShape(rank));
    SDVariable d = sd.placeHolder("d", DataType.FLOAT, samplePlaceholder());
    SDVariable g = sd.placeHolder("g", DataType.FLOAT, samplePlaceholder());
    SDVariable xt = InputGradients.track(sd, x);
    SDVariable out = policy.forward(GraphScope.of(sd, POLICY, policy.parameters()), xt, t, c);
    SDVariable y = xt.mul(a).add(out.mul(b)).add(d);
    y.rename("y");
    y.mul(g).sum().rename("s");
    sd.setLossVariables("s");
    return sd;
  }

  /** −Σ_b R(x_b)/B: its x-gradient is ∂L/∂x_0 for L = −mean R. */
  private SameDiff rewardGraph(Reward reward) {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, samplePlaceholder());
    SDVariable c = conditional ? sd.placeHolder("c", DataType.INT64, -1) : null;
    SDVariable w = sd.placeHolder("w", DataType.FLOAT);
    SDVariable xt = InputGradients.track(sd, x);
    SDVariable r = reward.forward(new GraphScope(sd, "reward.", reward.parameters(), false), xt, c);
    r.rename("reward");
    r.sum().mul(w).rename("weighted");
    sd.setLossVariables("weighted");
    return sd;
  }

  /** Runs one of the baselines on a trajectory sampled with the current policy. */
  public Result compute(RewardBackprop objective, Sampler sampler, Trajectory traj, Rng rng) {
    INDArray[] states = traj.states();
    int n = sampler.numSteps();
    INDArray cond = traj.condition();
    if (objective instanceof Refl refl) {
      int step = n - 1 - rng.nextInt(Math.min(refl.lateSteps(), n));
      GaussianStep st = sampler.step(step);
      INDArray x = states[step];
      INDArray x0 = x.mul(st.x0FromSample()).addi(traj.outputs()[step].mul(st.x0FromOutput()));
      INDArray[] rg = rewardGradient(x0, cond);
      Map<String, INDArray> grads = new LinkedHashMap<>();
      step(x, st.timestep(), cond, st.x0FromSample(), st.x0FromOutput(), zerosLike(x), rg[1], grads);
      return new Result(-rg[0].meanNumber().doubleValue(), rewardGradient(states[n], cond)[0], grads);
    }
    if (objective instanceof DraftLv lv) {
      GaussianStep st = sampler.step(n - 1);
      int copies = lv.copies();
      INDArray x0 = states[n];
      List<INDArray> xs = new ArrayList<>();
      List<INDArray> ds = new ArrayList<>();
      List<INDArray> cs = new ArrayList<>();
      double ab = st.alphaCumprod();
      for (int j = 0; j < copies; j++) {
        Rng r = rng.fork("copy", j);
        xs.add(x0.mul(Math.sqrt(ab)).addi(r.fork("renoise", 0).gaussian(x0.shape()).muli(Math.sqrt(1 - ab))));
        ds.add(r.fork("step", 0).gaussian(x0.shape()).muli(st.sigma()));
        if (cond != null) {
          cs.add(cond);
        }
      }
      INDArray x = Nd4j.concat(0, xs.toArray(INDArray[]::new));
      INDArray d = Nd4j.concat(0, ds.toArray(INDArray[]::new));
      INDArray c = cond == null ? null : Nd4j.concat(0, cs.toArray(INDArray[]::new));
      INDArray y = forwardStep(x, st, c, d);
      INDArray[] rg = rewardGradient(y, c);
      Map<String, INDArray> grads = new LinkedHashMap<>();
      step(x, st.timestep(), c, st.meanFromSample(), st.meanFromOutput(), d, rg[1], grads);
      return new Result(-rg[0].meanNumber().doubleValue(), rewardGradient(states[n], cond)[0], grads);
    }
    int depth = objective instanceof DraftK dk ? Math.min(dk.k(), n)
        : ((AlignProp) objective).randomTruncation() ? 1 + rng.nextInt(n) : n;
    INDArray[] rg = rewardGradient(states[n], cond);
    INDArray g = rg[1];
    Map<String, INDArray> grads = new LinkedHashMap<>();
    for (int i = n - 1; i >= n - depth; i--) {
      GaussianStep st = sampler.step(i);
      // d = σz, recovered exactly as the recorded x_s − μ(x_t)
      INDArray d = states[i + 1].sub(states[i].mul(st.meanFromSample()))
          .subi(traj.outputs()[i].mul(st.meanFromOutput()));
      g = step(states[i], st.timestep(), cond, st.meanFromSample(), st.meanFromOutput(), d, g, grads);
    }
    return new Result(-rg[0].meanNumber().doubleValue(), rg[0], grads);
  }

  private static INDArray zerosLike(INDArray x) {
    return Nd4j.zeros(x.dataType(), x.shape());
  }

  private INDArray forwardStep(INDArray x, GaussianStep st, INDArray c, INDArray d) {
    int rows = Math.toIntExact(x.size(0));
    int[] t = new int[rows];
    java.util.Arrays.fill(t, st.timestep());
    INDArray out = eager.predict(x, t, c);
    return x.mul(st.meanFromSample()).addi(out.muli(st.meanFromOutput())).addi(d);
  }

  /** {R(x) (B), ∂(−mean R)/∂x}. */
  private INDArray[] rewardGradient(INDArray x, INDArray c) {
    int rows = Math.toIntExact(x.size(0));
    Map<String, INDArray> ph = new HashMap<>();
    ph.put("x", x);
    if (conditional) {
      ph.put("c", c);
    }
    ph.put("w", Nd4j.scalar(DataType.FLOAT, -1.0f / rows));
    OutAndGrad og = GraphRuns.gradientsAndOutputs(rewardGrad, ph, List.of("reward"), List.of("x"));
    NablaRuntime.relieveMemory();
    return new INDArray[] {og.getOutputs().get("reward"), og.getGradients().get("x")};
  }

  /**
   * One vector–Jacobian product through y = a·x + b·out_θ(x) + d with upstream g: adds Σ g·∂y/∂θ to
   * {@code grads} and returns Σ g·∂y/∂x.
   */
  private INDArray step(INDArray x, int timestep, INDArray c, double a, double b, INDArray d, INDArray g,
      Map<String, INDArray> grads) {
    int rows = Math.toIntExact(x.size(0));
    List<INDArray> gx = new ArrayList<>();
    RowChunks.forEach(rowsPerExecution, rows, (from, to, weight) -> {
      // a vector–Jacobian product is a sum over rows, not a mean: chunks add up with weight 1
      double[] ts = new double[to - from];
      java.util.Arrays.fill(ts, timestep);
      double[] as = new double[to - from];
      java.util.Arrays.fill(as, a);
      double[] bs = new double[to - from];
      java.util.Arrays.fill(bs, b);
      Map<String, INDArray> ph = new HashMap<>();
      ph.put("x", Columns.rowsOrWhole(x, from, to));
      ph.put("t", Nd4j.createFromArray(ts));
      if (conditional) {
        ph.put("c", Columns.rowsOrWhole(c, from, to));
      }
      ph.put("a", Columns.of(as, rank));
      ph.put("b", Columns.of(bs, rank));
      ph.put("d", Columns.rowsOrWhole(d, from, to));
      ph.put("g", Columns.rowsOrWhole(g, from, to));
      List<String> vars = new ArrayList<>(policyVars);
      vars.add("x");
      Map<String, INDArray> out = GraphRuns.gradients(vjp, ph, vars);
      gx.add(out.get("x"));
      RowChunks.addWeighted(grads, RowChunks.byParameter(out, POLICY, policy), 1.0);
      NablaRuntime.relieveMemory();
    });
    return gx.size() == 1 ? gx.get(0) : Nd4j.concat(0, gx.toArray(INDArray[]::new));
  }
}
