package io.github.nablagfn.core.train;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.objective.DbObjective;
import io.github.nablagfn.core.objective.Ddpo;
import io.github.nablagfn.core.objective.NablaDbObjective;
import io.github.nablagfn.core.objective.Objective;
import io.github.nablagfn.core.objective.RewardBackprop;
import io.github.nablagfn.core.objective.Trajectory;
import io.github.nablagfn.core.reward.Reward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Sampler;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How the trainer runs one family of objectives: which row tasks an iteration consists of and what a share
 * of rows computes for them. The loop ({@link NablaTrainer#step()}) is the same for every family: either one
 * {@link RowTask.SampleAndLoss}, or a {@link RowTask.Sample} followed by {@link #innerEpochs()} update tasks on
 * the sampled batch (all but the last applied inside the iteration); then the guard and the update.
 */
sealed interface ObjectiveEngine permits NablaDbEngine, SampleAndLossEngine, DdpoEngine {

  /** The rows of one share and the random streams of its iteration. */
  /**
   * @param stream the iteration's random stream (batch-level draws such as the transition steps)
   * @param rowStream the stream of the share's rows ({@link Rng#rows})
   * @param started when the share's computation started ({@link System#nanoTime()})
   */
  record Share(int from, int to, int batchSize, Rng stream, Rng rowStream, long started) {
    int size() {
      return to - from;
    }
  }

  /** What every engine is built from. */
  record Parts(Denoiser policy, Denoiser reference, Denoiser flow, Sampler sampler, Reward reward,
      int rowsPerExecution) {}

  /** The engine of {@code objective}'s family. */
  static ObjectiveEngine of(Objective objective, Parts parts) {
    return objective.accept(new Objective.Visitor<ObjectiveEngine>() {
      @Override
      public ObjectiveEngine nablaDb(NablaDbObjective o) {
        return new NablaDbEngine(o, parts);
      }

      @Override
      public ObjectiveEngine db(DbObjective o) {
        return new DbEngine(o, parts);
      }

      @Override
      public ObjectiveEngine rewardBackprop(RewardBackprop o) {
        return new RewardBackpropEngine(o, parts);
      }

      @Override
      public ObjectiveEngine ddpo(Ddpo o) {
        return new DdpoEngine(o, parts);
      }
    });
  }

  /**
   * True when one {@link RowTask.SampleAndLoss} makes the iteration's loss (each share samples its rows and
   * differentiates them at once); false when the loss needs the whole sampled batch first.
   */
  boolean samplesAndLossInOneTask();

  /** Updates per sampled batch (≥ 1) when {@link #samplesAndLossInOneTask()} is false. */
  int innerEpochs();

  /**
   * The update task of inner epoch {@code epoch} on the iteration's sampled batch.
   *
   * @param stream the iteration's random stream ({@code Rng.of(seed).fork("iteration", iteration)})
   * @param rewards the batch's rewards in row order
   */
  RowTask update(long iteration, Rng stream, RowTask.SampledBatch batch, float[] rewards, int epoch);

  /**
   * The share's loss terms, diagnostics and gradients for {@code task} (a {@link RowTask.SampleAndLoss} or this
   * engine's update task) on the share's rows of the trajectories.
   */
  RowResult loss(RowTask task, Trajectory rows, Share share);

  /** See {@link NablaTrainer#logFlowScore}. */
  default INDArray logFlowScore(INDArray x, int step, INDArray condition) {
    throw new IllegalStateException(name() + " learns no log-flow");
  }

  /** The objective's name, for messages. */
  String name();
}
