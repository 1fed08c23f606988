package io.github.nablagfn.core.graph;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API loops of {@link JavaKernel}, over elements [from, to) of float32 byte buffers. The only
 * class that touches {@code jdk.incubator.vector}: it is loaded only when {@link FastKernels#enabled()}.
 */
final class VectorKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  private VectorKernels() {}

  static void sigmoid(ByteBuffer x, ByteBuffer y, int from, int to) {
    int i = from;
    int upper = from + S.loopBound(to - from);
    FloatVector one = FloatVector.broadcast(S, 1f);
    for (; i < upper; i += S.length()) {
      FloatVector v = FloatVector.fromByteBuffer(S, x, i * 4, ORDER);
      one.div(v.neg().lanewise(VectorOperators.EXP).add(one)).intoByteBuffer(y, i * 4, ORDER);
    }
    for (; i < to; i++) {
      y.putFloat(i * 4, 1f / (1f + (float) Math.exp(-x.getFloat(i * 4))));
    }
  }

  static void sigmoidBackward(ByteBuffer x, ByteBuffer g, ByteBuffer dx, int from, int to) {
    int i = from;
    int upper = from + S.loopBound(to - from);
    FloatVector one = FloatVector.broadcast(S, 1f);
    for (; i < upper; i += S.length()) {
      FloatVector v = FloatVector.fromByteBuffer(S, x, i * 4, ORDER);
      FloatVector s = one.div(v.neg().lanewise(VectorOperators.EXP).add(one));
      FloatVector grad = FloatVector.fromByteBuffer(S, g, i * 4, ORDER);
      grad.mul(s).mul(one.sub(s)).intoByteBuffer(dx, i * 4, ORDER);
    }
    for (; i < to; i++) {
      float s = 1f / (1f + (float) Math.exp(-x.getFloat(i * 4)));
      dx.putFloat(i * 4, g.getFloat(i * 4) * s * (1f - s));
    }
  }
}
