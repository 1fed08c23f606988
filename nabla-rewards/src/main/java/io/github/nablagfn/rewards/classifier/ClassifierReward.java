package io.github.nablagfn.rewards.classifier;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.reward.Reward;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * R(x) = log p(c | x) = log_softmax(classifier(x))[c], the log-probability of the target class c (the
 * sample's condition). A label outside 0..numClasses−1 (e.g. the null class) gives R = 0.
 */
public final class ClassifierReward implements Reward {
  private final Classifier classifier;

  public ClassifierReward(Classifier classifier) {
    this.classifier = classifier;
  }

  public Classifier classifier() {
    return classifier;
  }

  @Override
  public String name() {
    return "classifier-log-prob";
  }

  @Override
  public boolean differentiable() {
    return true;
  }

  @Override
  public ParameterSet parameters() {
    return classifier.parameters();
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
    if (condition == null) {
      throw new IllegalArgumentException("the classifier reward needs the target class as the condition");
    }
    // log_softmax composed as z − max − log Σ exp(z − max): SameDiff M2.1's logSoftmax(x, dim) fails to build
    SDVariable z = classifier.logits(scope, x);
    SDVariable shifted = z.sub(z.max(true, 1));
    SDVariable logp = shifted.sub(scope.sd().math().log(scope.sd().math().exp(shifted).sum(true, 1)));
    SDVariable oneHot = scope.sd().oneHot(condition, classifier.numClasses(), -1, 1.0, 0.0, DataType.FLOAT);
    return logp.mul(oneHot).sum(1);
  }
}
