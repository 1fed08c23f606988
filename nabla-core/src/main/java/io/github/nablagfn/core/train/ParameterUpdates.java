package io.github.nablagfn.core.train;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The updates of θ (policy) and φ (flow, when there is one): each with its own AdamW, learning-rate schedule
 * and optimizer state; undo points for the updates an iteration applies before its guard.
 */
final class ParameterUpdates {
  private final Denoiser policy;
  private final Denoiser flow;
  private final AdamW policyOptimizer;
  private final AdamW flowOptimizer;
  private final LearningRate policyLearningRate;
  private final LearningRate flowLearningRate;
  private AdamW.State policyState;
  private AdamW.State flowState;

  ParameterUpdates(Denoiser policy, Denoiser flow, AdamW policyOptimizer, AdamW flowOptimizer,
      LearningRate policyLearningRate, LearningRate flowLearningRate) {
    this.policy = policy;
    this.flow = flow;
    this.policyOptimizer = policyOptimizer;
    this.flowOptimizer = flowOptimizer;
    this.policyLearningRate = policyLearningRate;
    this.flowLearningRate = flowLearningRate;
    this.policyState = policyOptimizer.newState(policy.parameters());
    this.flowState = flow == null ? null : flowOptimizer.newState(flow.parameters());
  }

  /** The gradients of every parameter of θ from a result (zeros where it had none). */
  Map<String, INDArray> policyGradients(RowResult r) {
    return policy.parameters().gradientsOrZeros(r.policyGradients().toArrays(), "");
  }

  /** The gradients of every parameter of φ from a result; empty without a flow. */
  Map<String, INDArray> flowGradients(RowResult r) {
    return flow == null ? Map.of() : flow.parameters().gradientsOrZeros(r.flowGradients().toArrays(), "");
  }

  /** The L2 norm of φ's gradients; 0 without a flow. */
  double flowNorm(Map<String, INDArray> flowGradients) {
    return flow == null ? 0.0 : AdamW.globalNorm(flowGradients);
  }

  /** One AdamW step of θ and (if present) φ at iteration {@code iteration}'s learning rates. */
  void apply(Map<String, INDArray> policyGradients, Map<String, INDArray> flowGradients, long iteration) {
    policyOptimizer.withLr(policyLearningRate.at(iteration)).step(policy.parameters(), policyGradients, policyState);
    if (flow != null) {
      flowOptimizer.withLr(flowLearningRate.at(iteration)).step(flow.parameters(), flowGradients, flowState);
    }
  }

  /** Restores θ, φ and their optimizer states to what they are now. */
  Runnable undoPoint() {
    Map<String, INDArray> policyBefore = snapshot(policy.parameters().asMap());
    AdamW.State policyStateBefore = AdamW.State.fromTensors(policyState.toTensors(), policy.parameters());
    Map<String, INDArray> flowBefore = flow == null ? null : snapshot(flow.parameters().asMap());
    AdamW.State flowStateBefore = flow == null ? null : AdamW.State.fromTensors(flowState.toTensors(), flow.parameters());
    return () -> {
      policy.parameters().load(policyBefore, false);
      policyState = policyStateBefore;
      if (flow != null) {
        flow.parameters().load(flowBefore, false);
        flowState = flowStateBefore;
      }
    };
  }

  /** The optimizer states under their checkpoint names ({@code opt.policy.*}, {@code opt.flow.*}). */
  Map<String, INDArray> stateTensors() {
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    policyState.toTensors().forEach((k, v) -> tensors.put("opt.policy." + k, v));
    if (flow != null) {
      flowState.toTensors().forEach((k, v) -> tensors.put("opt.flow." + k, v));
    }
    return tensors;
  }

  /**
   * Checks saved optimizer states ({@link #stateTensors()} with the prefixes removed) against the parameters
   * and returns the action that installs them; nothing changes before it runs.
   *
   * @throws IllegalArgumentException naming what does not match
   */
  Runnable restoring(Map<String, INDArray> policyOpt, Map<String, INDArray> flowOpt) {
    AdamW.State ps = AdamW.State.fromTensors(policyOpt, policy.parameters());
    AdamW.State fs = flow == null ? null : AdamW.State.fromTensors(flowOpt, flow.parameters());
    return () -> {
      policyState = ps;
      flowState = fs;
    };
  }

  String policyOptimizer() {
    return policyOptimizer.toString();
  }

  String flowOptimizer() {
    return flowOptimizer.toString();
  }

  private static Map<String, INDArray> snapshot(Map<String, INDArray> params) {
    Map<String, INDArray> copy = new LinkedHashMap<>();
    params.forEach((k, v) -> copy.put(k, v.dup()));
    return copy;
  }
}
