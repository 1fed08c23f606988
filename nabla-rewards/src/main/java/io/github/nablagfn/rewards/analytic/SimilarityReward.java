package io.github.nablagfn.rewards.analytic;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.reward.Reward;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** R(x) = −mean((x − target)²): similarity to a fixed target image (C, H, W). */
public final class SimilarityReward implements Reward {
  private final INDArray target;

  public SimilarityReward(INDArray target) {
    if (target.rank() != 3) {
      throw new IllegalArgumentException("target image of shape " + java.util.Arrays.toString(target.shape())
          + "; expected (C, H, W)");
    }
    this.target = target.castTo(DataType.FLOAT).dup();
  }

  @Override
  public String name() {
    return "similarity";
  }

  @Override
  public boolean differentiable() {
    return true;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
    long[] s = target.shape();
    SDVariable t = scope.sd().constant(target.reshape(1, s[0], s[1], s[2]));
    SDVariable d = x.sub(t);
    return d.mul(d).mean(1, 2, 3).neg();
  }
}
