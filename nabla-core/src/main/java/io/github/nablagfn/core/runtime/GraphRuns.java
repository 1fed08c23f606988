package io.github.nablagfn.core.runtime;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.config.SDValue;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.nd4j.autodiff.samediff.api.OutAndGrad;

/**
 * Gradient executions that free their intermediate arrays as soon as they return.
 *
 * <p>SameDiff 1.0.0-M2.1 runs {@code calculateGradients*} in the graph's {@code "grad"} function with
 * its array release switched off, and the session keeps every value of the last run in its
 * {@code nodeValueOutputs} map until the next run overwrites it. Measured on the small U-Net (LoRA 8,
 * flow U-Net, batch 8): the four gradient graphs of one Residual ∇-DB iteration kept 950, 950, 976 and
 * 1698 MB alive between iterations (4.5 GB of a 5 GB resident size after a full collection), and the
 * replaced values waited for the garbage collector. {@link #gradientsAndOutputs} runs the same call and
 * then closes every array that session still holds, except those sharing memory with the returned
 * arrays, the caller's placeholders, or the graph's variables and constants, and empties the map; the
 * memory goes back to the allocator at once and is reused by the next run.
 *
 * <p>Every session also records the id of each array it has released in a set that is never emptied
 * ({@code InferenceSession.freedArrays}: ids are unique, so it only guards against a double release
 * within one run); at ≈ 60 bytes per entry and tens of thousands of released arrays per sampling pass,
 * that is a Java-heap leak of about a megabyte per iteration. {@link #output} and
 * {@link #gradientsAndOutputs} empty it after each run.
 */
public final class GraphRuns {
  private static final Logger LOG = LoggerFactory.getLogger(GraphRuns.class);
  private static final Field FREED_IDS = freedIdsField();

  private GraphRuns() {}

  /** {@link SameDiff#output(Map, String...)}, then forgets the ids of the arrays the run released. */
  public static Map<String, INDArray> output(SameDiff sd, Map<String, INDArray> placeholders,
      String... outputs) {
    Map<String, INDArray> out = sd.output(placeholders, outputs);
    forgetReleasedIds(sd.getSessions().get(Thread.currentThread().getId()));
    return out;
  }

  /**
   * {@link SameDiff#calculateGradientsAndOutputs} followed by freeing the run's intermediates; the
   * returned arrays stay valid.
   */
  public static OutAndGrad gradientsAndOutputs(SameDiff sd, Map<String, INDArray> placeholders,
      Collection<String> outputs, Collection<String> gradientsOf) {
    OutAndGrad og = sd.calculateGradientsAndOutputs(placeholders, outputs, gradientsOf);
    List<INDArray> keep = new ArrayList<>();
    if (og.getOutputs() != null) {
      keep.addAll(og.getOutputs().values());
    }
    if (og.getGradients() != null) {
      keep.addAll(og.getGradients().values());
    }
    release(sd.getFunction("grad"), sd, placeholders, keep);
    return og;
  }

  /** {@link SameDiff#calculateGradients} followed by freeing the run's intermediates. */
  public static Map<String, INDArray> gradients(SameDiff sd, Map<String, INDArray> placeholders,
      Collection<String> gradientsOf) {
    return gradientsAndOutputs(sd, placeholders, null, gradientsOf).getGradients();
  }

  /**
   * Closes the arrays the current thread's session of {@code run} still holds from its last execution
   * (except those sharing a buffer with {@code keep}, {@code placeholders}, or a variable or constant of
   * {@code run} or {@code owner}) and forgets them.
   */
  static void release(SameDiff run, SameDiff owner, Map<String, INDArray> placeholders,
      Collection<INDArray> keep) {
    if (run == null) {
      return;
    }
    InferenceSession session = run.getSessions().get(Thread.currentThread().getId());
    if (session == null) {
      return;
    }
    List<long[]> kept = new ArrayList<>();
    keep.forEach(a -> protect(kept, a));
    if (placeholders != null) {
      placeholders.values().forEach(a -> protect(kept, a));
    }
    protectParameters(kept, run);
    protectParameters(kept, owner);
    Map<?, SDValue> values = session.getNodeValueOutputs();
    Set<INDArray> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (SDValue v : values.values()) {
      if (v == null) {
        continue;
      }
      if (v.getTensorValue() != null) {
        close(v.getTensorValue(), kept, seen);
      }
      if (v.getListValue() != null) {
        for (INDArray a : v.getListValue()) {
          close(a, kept, seen);
        }
      }
    }
    values.clear();
    forgetReleasedIds(session);
  }

  private static void forgetReleasedIds(InferenceSession session) {
    if (session == null || FREED_IDS == null) {
      return;
    }
    try {
      ((Set<?>) FREED_IDS.get(session)).clear();
    } catch (IllegalAccessException | ClassCastException e) {
      LOG.debug("cannot empty the released-id set of a SameDiff session", e);
    }
  }

  private static Field freedIdsField() {
    try {
      Field f = InferenceSession.class.getDeclaredField("freedArrays");
      f.setAccessible(true);
      return Set.class.isAssignableFrom(f.getType()) ? f : null;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LoggerFactory.getLogger(GraphRuns.class).warn("this SameDiff version has no InferenceSession.freedArrays;"
          + " released-id sets are not emptied ({})", e.toString());
      return null;
    }
  }

  private static void protectParameters(List<long[]> kept, SameDiff sd) {
    for (SDVariable v : sd.variables()) {
      if (v.getVariableType() == VariableType.VARIABLE || v.getVariableType() == VariableType.CONSTANT) {
        protect(kept, v.getArr());
      }
    }
  }

  /** Records the native memory range [start, end) an array lives in. */
  private static void protect(List<long[]> kept, INDArray a) {
    if (a == null || a.isEmpty() || a.wasClosed()) {
      return;
    }
    kept.add(range(a));
  }

  private static void close(INDArray a, List<long[]> kept, Set<INDArray> seen) {
    if (a == null || a.isEmpty() || a.wasClosed() || a.isView() || !a.closeable() || !seen.add(a)) {
      return;
    }
    long[] r = range(a);
    for (long[] k : kept) {
      if (r[0] < k[1] && k[0] < r[1]) {
        return;
      }
    }
    a.close();
  }

  /** The whole buffer behind an array (a view's buffer is its parent's). */
  private static long[] range(INDArray a) {
    DataBuffer d = a.data();
    DataBuffer whole = d.originalDataBuffer() != null ? d.originalDataBuffer() : d;
    long start = whole.address();
    long bytes = Math.max(1, whole.length() * whole.getElementSize());
    long s = Math.min(start, d.address());
    long e = Math.max(start + bytes, d.address() + Math.max(1, d.length() * d.getElementSize()));
    return new long[] {s, e};
  }
}
