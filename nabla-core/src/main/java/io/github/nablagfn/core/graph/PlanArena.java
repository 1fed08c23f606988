package io.github.nablagfn.core.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The intermediate buffers of the {@link GraphPlan}s run on one thread. A plan names each intermediate
 * by a slot (key: type and length; index); all plans of the thread share the slots, since their runs never
 * overlap, so the memory held is, per type and length, the most any one plan needs at once. Slots no plan
 * has used in the last {@value #IDLE_RUNS} runs are freed (checked every {@value #TRIM_EVERY} runs), which
 * bumps the generation so plans re-resolve their arrays (a freed slot is allocated again when next used).
 */
final class PlanArena {
  static final int IDLE_RUNS = 256;
  static final int TRIM_EVERY = 32;
  private static final ThreadLocal<PlanArena> CURRENT = ThreadLocal.withInitial(PlanArena::new);

  /** One buffer: arrays of the same type and length share a key; index tells them apart. */
  record Slot(String key, int index, LongShapeDescriptor shape) {}

  /** One slot's array (null while freed) and the run that last used it. */
  private static final class Buffer {
    INDArray array;
    long lastUsed;
  }

  private final Map<String, List<Buffer>> buffers = new HashMap<>();
  private long runs;
  private long generation;

  static PlanArena current() {
    return CURRENT.get();
  }

  /**
   * Arrays of the same type and length share slots whatever their shapes (a GroupNorm's grouped copy and
   * its input, a concatenation and a wider level's activation): each use gets a view of the slot's flat
   * buffer in its own shape.
   */
  static String key(LongShapeDescriptor d) {
    return d.isEmpty() ? d.dataType() + Arrays.toString(d.getShape()) + "e"
        : d.dataType() + "x" + Arrays.stream(d.getShape()).reduce(1L, (a, b) -> a * b);
  }

  long generation() {
    return generation;
  }

  private Buffer buffer(Slot slot) {
    List<Buffer> list = buffers.computeIfAbsent(slot.key(), k -> new ArrayList<>());
    while (list.size() <= slot.index()) {
      list.add(new Buffer());
    }
    return list.get(slot.index());
  }

  /** The slot's array, allocated (uninitialised) if the slot is new or was freed. */
  INDArray get(Slot slot) {
    Buffer b = buffer(slot);
    LongShapeDescriptor d = slot.shape();
    if (b.array == null || b.array.wasClosed()) {
      b.array = d.isEmpty() ? Nd4j.create(d) : Nd4j.createUninitializedDetached(d.dataType(), d.getShape());
    }
    b.lastUsed = runs;
    return d.isEmpty() || Arrays.equals(b.array.shape(), d.getShape()) ? b.array : b.array.reshape('c', d.getShape());
  }

  INDArray[][] resolve(Slot[][] slots) {
    INDArray[][] out = new INDArray[slots.length][];
    for (int k = 0; k < slots.length; k++) {
      out[k] = new INDArray[slots[k].length];
      for (int i = 0; i < slots[k].length; i++) {
        out[k][i] = get(slots[k][i]);
      }
    }
    return out;
  }

  /** Marks the slots as used by the current run. */
  void touch(Slot[][] slots) {
    for (Slot[] row : slots) {
      for (Slot s : row) {
        buffer(s).lastUsed = runs;
      }
    }
  }

  void finishedRun() {
    runs++;
    if (runs % TRIM_EVERY == 0) {
      trim(runs - IDLE_RUNS);
    }
  }

  /** Frees the slots not used since run {@code before}. */
  void trim(long before) {
    boolean freed = false;
    for (List<Buffer> list : buffers.values()) {
      for (Buffer b : list) {
        if (b.array != null && b.lastUsed < before) {
          if (b.array.closeable() && !b.array.wasClosed()) {
            b.array.close();
          }
          b.array = null;
          freed = true;
        }
      }
    }
    if (freed) {
      generation++;
    }
  }

  /** Bytes held by the live slots. */
  long bytes() {
    long b = 0;
    for (List<Buffer> list : buffers.values()) {
      for (Buffer buf : list) {
        if (buf.array != null && !buf.array.wasClosed()) {
          b += buf.array.length() * buf.array.dataType().width();
        }
      }
    }
    return b;
  }
}
