package io.github.nablagfn.core.graph;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A graph op that only {@link GraphPlan} runs, in Java: ND4J has no native op of its name. The building blocks
 * emit such ops only when {@link FastKernels#fusedGraphs()} says plans will run them.
 */
interface JavaOp {
  /** Computes the op's outputs (arrays of the shapes it declared) from its inputs. */
  void execute(INDArray[] in, INDArray[] out);
}
