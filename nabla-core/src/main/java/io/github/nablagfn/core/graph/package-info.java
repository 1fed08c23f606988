/**
 * How the library's SameDiff graphs are executed. {@code GraphRuns} runs every forward and gradient graph
 * of the library, by a {@code GraphPlan} (compiled once per placeholder-shape signature, executed op by op
 * into buffers of the calling thread's {@code PlanArena}; {@code -Dnabla.graphPlans=false} turns this off) or
 * else by SameDiff's session with its arrays released during and after the run; {@code OpProfile} times every
 * op of those runs. Each thread that runs graphs holds its own arena: about the peak of live intermediates of
 * the largest graph it ran in the last 256 runs (slots shared by arrays of one type and length). A plan also
 * rewrites a few ops where it can do the same with less: reshapes of op outputs are views, {@code add_bp} of
 * equal shapes passes the output gradient on, a stride-1 {@code conv2d_bp} whose weight gradient nobody reads
 * is a {@code deconv2d} ({@code -Dnabla.inputOnlyConvBackprop=false} keeps it), and arrays that backward ops
 * read only for their shapes are freed after their last value read ({@code -Dnabla.shapeOnlyReads=false}
 * keeps them). With the Vector API available ({@code --add-modules jdk.incubator.vector}, Java 17–19), a plan
 * runs Java kernels ({@code FastKernels}) for {@code sigmoid}, {@code sigmoid_bp} and the {@code conv2d_bp} of
 * convolutions with at most 4 output channels ({@code NarrowConvBackward}), the weight and bias gradients alone of a
 * {@code conv2d_bp} whose input gradient nothing reads (a trained first layer: {@code ConvWeightGradient};
 * {@code -Dnabla.javaConvBackprop=false} keeps ND4J's op for both), and building blocks emit
 * {@code FusedGroupNorm} (GroupNorm + affine + SiLU and its gradient as single ops); the kernels use only
 * exactly rounded arithmetic, so they give the same bits in every JIT state and on any thread count. With or
 * without it, those deconv2d run as a forward {@code conv2d} with the flipped kernel, faster in ND4J at the
 * U-Net's larger sizes ({@code -Dnabla.javaDeconv=false} keeps ND4J's deconv2d; {@code -Dnabla.fusedKernels=false}
 * runs ND4J's ops everywhere).
 */
package io.github.nablagfn.core.graph;
