package io.github.nablagfn.core.runtime;

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
 * by a slot (shape key, index); all plans of the thread share the slots, since their runs never overlap,
 * so the memory held is, per shape, the most any one plan needs at once. Slots no plan has used in the
 * last {@value #IDLE_RUNS} runs are freed (checked every {@value #TRIM_EVERY} runs), which bumps the
 * generation so plans re-resolve their arrays (a freed slot is allocated again when next used).
 */
final class PlanArena {
  static final int IDLE_RUNS = 256;
  static final int TRIM_EVERY = 32;
  private static final ThreadLocal<PlanArena> CURRENT = ThreadLocal.withInitial(PlanArena::new);

  /** One buffer: arrays of the same shape and type share a key; index tells them apart. */
  record Slot(String key, int index, LongShapeDescriptor shape) {}

  private final Map<String, List<INDArray>> buffers = new HashMap<>();
  private final Map<String, List<long[]>> lastUsed = new HashMap<>();
  private long runs;
  private long generation;

  static PlanArena current() {
    return CURRENT.get();
  }

  static String key(LongShapeDescriptor d) {
    return d.dataType() + Arrays.toString(d.getShape()) + (d.isEmpty() ? "e" : "");
  }

  long generation() {
    return generation;
  }

  /** The slot's array, allocated (uninitialised) if the slot is new or was freed. */
  INDArray get(Slot slot) {
    List<INDArray> list = buffers.computeIfAbsent(slot.key(), k -> new ArrayList<>());
    List<long[]> used = lastUsed.computeIfAbsent(slot.key(), k -> new ArrayList<>());
    while (list.size() <= slot.index()) {
      list.add(null);
      used.add(new long[] {runs});
    }
    INDArray a = list.get(slot.index());
    if (a == null || a.wasClosed()) {
      LongShapeDescriptor d = slot.shape();
      a = d.isEmpty() ? Nd4j.create(d) : Nd4j.createUninitializedDetached(d.dataType(), d.getShape());
      list.set(slot.index(), a);
    }
    used.get(slot.index())[0] = runs;
    return a;
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
        lastUsed.get(s.key()).get(s.index())[0] = runs;
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
    for (Map.Entry<String, List<INDArray>> e : buffers.entrySet()) {
      List<INDArray> list = e.getValue();
      List<long[]> used = lastUsed.get(e.getKey());
      for (int i = 0; i < list.size(); i++) {
        INDArray a = list.get(i);
        if (a != null && used.get(i)[0] < before) {
          if (a.closeable() && !a.wasClosed()) {
            a.close();
          }
          list.set(i, null);
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
    for (List<INDArray> list : buffers.values()) {
      for (INDArray a : list) {
        if (a != null && !a.wasClosed()) {
          b += a.length() * a.dataType().width();
        }
      }
    }
    return b;
  }
}
