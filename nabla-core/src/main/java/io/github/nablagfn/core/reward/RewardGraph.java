package io.github.nablagfn.core.reward;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.graph.GraphRuns;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A differentiable reward's forward graph, built once per (reward, sample shape) and reused. */
final class RewardGraph {
  private static final Map<Reward, Map<String, RewardGraph>> CACHE = new WeakHashMap<>();
  private final SameDiff sd;
  private final String out;

  private final boolean conditional;

  /** With {@code conditional}, the graph has a condition placeholder {@code c}; without, the reward gets null. */
  private RewardGraph(Reward reward, long[] sampleShape, boolean conditional) {
    if (!reward.differentiable()) {
      throw new IllegalStateException("reward '" + reward.name() + "' has no graph; it must override evaluate()");
    }
    this.sd = SameDiff.create();
    this.conditional = conditional;
    SDVariable x = sd.placeHolder("x", DataType.FLOAT,
        io.github.nablagfn.core.model.DenoiserGraph.withBatch(-1, sampleShape));
    SDVariable c = conditional ? sd.placeHolder("c", DataType.INT64, -1) : null;
    this.out = reward.forward(new GraphScope(sd, "reward.", reward.parameters(), false), x, c).name();
  }

  static synchronized RewardGraph of(Reward reward, INDArray x, boolean conditional) {
    long[] shape = Arrays.copyOfRange(x.shape(), 1, x.rank());
    return CACHE.computeIfAbsent(reward, r -> new HashMap<>())
        .computeIfAbsent(Arrays.toString(shape) + (conditional ? "|c" : "|-"),
            k -> new RewardGraph(reward, shape, conditional));
  }

  INDArray evaluate(INDArray x, INDArray condition) {
    Map<String, INDArray> ph = new HashMap<>();
    ph.put("x", x.castTo(DataType.FLOAT));
    if (conditional) {
      ph.put("c", condition.castTo(DataType.INT64).reshape(x.size(0)));
    }
    synchronized (this) {
      return GraphRuns.output(sd, ph, out).get(out);
    }
  }
}
