package io.github.nablagfn.core.reward;

import io.github.nablagfn.core.nn.GraphScope;
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

  /** The graph always has a condition placeholder {@code c}; rewards that ignore it do not read it. */
  private RewardGraph(Reward reward, long[] sampleShape) {
    if (!reward.differentiable()) {
      throw new IllegalStateException("reward '" + reward.name() + "' has no graph; it must override evaluate()");
    }
    this.sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT,
        io.github.nablagfn.core.model.DenoiserGraph.withBatch(-1, sampleShape));
    SDVariable c = sd.placeHolder("c", DataType.INT64, -1);
    this.out = reward.forward(new GraphScope(sd, "reward.", reward.parameters(), false), x, c).name();
  }

  static synchronized RewardGraph of(Reward reward, INDArray x) {
    long[] shape = Arrays.copyOfRange(x.shape(), 1, x.rank());
    return CACHE.computeIfAbsent(reward, r -> new HashMap<>())
        .computeIfAbsent(Arrays.toString(shape), k -> new RewardGraph(reward, shape));
  }

  INDArray evaluate(INDArray x, INDArray condition) {
    Map<String, INDArray> ph = new HashMap<>();
    ph.put("x", x.castTo(DataType.FLOAT));
    long n = x.size(0);
    ph.put("c", condition == null ? org.nd4j.linalg.factory.Nd4j.zeros(DataType.INT64, n)
        : condition.castTo(DataType.INT64).reshape(n));
    synchronized (this) {
      return sd.output(ph, out).get(out);
    }
  }
}
