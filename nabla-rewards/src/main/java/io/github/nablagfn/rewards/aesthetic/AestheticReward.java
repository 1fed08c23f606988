package io.github.nablagfn.rewards.aesthetic;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.reward.Reward;
import io.github.nablagfn.rewards.classifier.Classifier;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * R(x) = head(features(x)): an aesthetic-style score, the {@link AestheticHead} over the classifier's
 * penultimate features, differentiable in x through both (both frozen). Unconditional.
 */
public final class AestheticReward implements Reward {
  private final Classifier classifier;
  private final AestheticHead head;
  private final ParameterSet params = new ParameterSet();

  public AestheticReward(Classifier classifier, AestheticHead head) {
    if (head.embedding() != 64) {
      throw new IllegalArgumentException("aesthetic head over classifier features: embedding = " + head.embedding()
          + "; expected 64 (the classifier's feature width)");
    }
    this.classifier = classifier;
    this.head = head;
    classifier.parameters().asMap().forEach((k, v) -> params.add("classifier." + k, v));
    head.parameters().asMap().forEach((k, v) -> params.add("head." + k, v));
  }

  @Override
  public String name() {
    return "aesthetic-head";
  }

  @Override
  public boolean differentiable() {
    return true;
  }

  @Override
  public ParameterSet parameters() {
    return params;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
    SDVariable features = classifier.features(
        new GraphScope(scope.sd(), scope.prefix() + "classifier.", classifier.parameters(), scope.trainable()), x);
    return head.forward(new GraphScope(scope.sd(), scope.prefix() + "head.", head.parameters(), scope.trainable()),
        features);
  }

  @Override
  public INDArray evaluate(INDArray x, INDArray condition) {
    return Reward.super.evaluate(x, null);
  }
}
