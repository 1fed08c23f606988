package io.github.nablagfn.core.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.BaseOp;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * A compiled execution of a SameDiff graph without control flow: the ops needed for a fixed set of
 * outputs in topological order, each with its own op context, executed directly by ND4J.
 *
 * <p>What SameDiff's {@code InferenceSession} does per op on every run (dependency tracking, output
 * shape calculation, a fresh allocation, array-release bookkeeping) is done here once per input-shape
 * signature: the first run with a new set of placeholder shapes plans where every intermediate lives,
 * reusing a buffer of the same shape as soon as its last reader has run; later runs with the same
 * shapes execute the ops into the very same arrays. Memory held between runs is the plan's buffers
 * (the peak of live intermediates, not their sum); returned arrays are copies, valid for ever.
 *
 * <p>Where it can do the same with less, a plan departs from the graph's ops (each with a naive-vs-fast
 * test against SameDiff's own run): a reshape of an op's output is a view of it; {@code add_bp} of equal
 * shapes passes the output gradient on; a stride-1 {@code conv2d_bp} whose weight gradient nobody reads runs
 * as {@code deconv2d}; an array that later ops read only for its shape is freed after its last value
 * read; and {@code sigmoid} and {@code sigmoid_bp} run as Java kernels ({@link FastKernels}).
 *
 * <p>The parts: {@link OpOrder} chooses and orders the ops (compiling), {@link PlanRewrites} the
 * departures above, this class the slot table and the per-signature planning of arena slots, and
 * {@link PlanStep} executes one op.
 *
 * <p>Graphs with control flow, control dependencies, tensor arrays, in-place assignment or views
 * (anything but plain custom and legacy ops and identities) are refused ({@link #supports}); callers
 * fall back to SameDiff. Intermediate shapes must follow from the placeholder shapes, which holds for graphs without
 * data-dependent shape ops; a plan re-checks every op's output shapes on the first run of a signature.
 */
final class GraphPlan {
  private final SameDiff sd;
  private final String[] outputs;
  private final List<PlanStep> steps = new ArrayList<>();
  private final Map<String, Integer> slot = new HashMap<>();
  private final List<String> placeholderNames = new ArrayList<>();
  private final int[] placeholderSlots;
  private final SDVariable[] fixedVars;
  private final int[] fixedSlots;
  private final int[] outputSlots;
  private final int[] uses;
  /** Whether a slot is an op's output (not a placeholder, variable or constant). */
  private final boolean[] opOutput;
  private final Map<List<Long>, Planned> plans = new HashMap<>();
  private final INDArray[] values;

  /** Whether {@code sd} can be planned for {@code outputs}; null if so, else the reason. */
  static String supports(SameDiff sd, Collection<String> outputs) {
    return OpOrder.supports(sd, outputs);
  }

  GraphPlan(SameDiff sd, Collection<String> outputs) {
    this.sd = sd;
    this.outputs = outputs.toArray(new String[0]);
    List<SameDiffOp> ops = OpOrder.neededOps(sd, outputs);
    Set<String> produced = new LinkedHashSet<>();
    for (SameDiffOp op : ops) {
      if (op.getOutputsOfOp() != null) {
        produced.addAll(op.getOutputsOfOp());
      }
    }
    List<SDVariable> fixed = new ArrayList<>();
    List<Integer> fixedSlotList = new ArrayList<>();
    for (SameDiffOp op : ops) {
      DifferentialFunction df = op.getOp();
      String[] args = df.argNames();
      int[] in = new int[args == null ? 0 : args.length];
      for (int i = 0; i < in.length; i++) {
        in[i] = slotFor(args[i], produced, fixed, fixedSlotList);
      }
      String[] outNames = df.outputVariablesNames();
      int[] out = new int[outNames.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = slot.computeIfAbsent(outNames[i], k -> slot.size());
      }
      steps.add(new PlanStep(op, in, out));
    }
    outputSlots = new int[this.outputs.length];
    for (int i = 0; i < outputSlots.length; i++) {
      outputSlots[i] = slotFor(this.outputs[i], produced, fixed, fixedSlotList);
    }
    Set<Integer> read = new java.util.HashSet<>();
    for (PlanStep s : steps) {
      for (int i : s.in) {
        read.add(i);
      }
    }
    for (int o : outputSlots) {
      read.add(o);
    }
    for (PlanStep s : steps) {
      PlanRewrites.substituteInputOnlyConvBackprop(s, read);
      s.liveIn = s.valueIn();
      s.kernel(FastKernels.forOp(s.opName()));
      if (s.kernel != null && PlanRewrites.weightOnlyConvBackprop(s, read)) {
        s.kernel(JavaKernel.CONV2D_WEIGHT_GRADIENT);
      }
    }
    opOutput = new boolean[slot.size()];
    for (PlanStep s : steps) {
      for (int o : s.out) {
        opOutput[o] = true;
      }
    }
    placeholderSlots = placeholderNames.stream().mapToInt(slot::get).toArray();
    fixedVars = fixed.toArray(new SDVariable[0]);
    fixedSlots = fixedSlotList.stream().mapToInt(Integer::intValue).toArray();
    uses = new int[slot.size()];
    for (PlanStep s : steps) {
      for (int i : s.liveIn) {
        uses[i]++;
      }
    }
    for (int o : outputSlots) {
      uses[o] = Integer.MAX_VALUE / 2; // never released
    }
    values = new INDArray[slot.size()];
  }

  /**
   * The slot of a graph variable, assigned on first sight: placeholders are filled per run, variables and
   * constants read from the graph per run, op outputs written by their op.
   */
  private int slotFor(String name, Set<String> produced, List<SDVariable> fixed, List<Integer> fixedSlots) {
    Integer s = slot.get(name);
    if (s != null) {
      return s;
    }
    s = slot.size();
    slot.put(name, s);
    SDVariable v = sd.getVariable(name);
    if (v.isPlaceHolder()) {
      placeholderNames.add(name);
    } else if (v.getVariableType() == VariableType.VARIABLE || v.getVariableType() == VariableType.CONSTANT) {
      fixed.add(v);
      fixedSlots.add(s);
    } else if (!produced.contains(name)) {
      throw new IllegalStateException("graph variable '" + name + "' has no producer");
    }
    return s;
  }

  /** How a step of a signature produces its outputs. */
  static final byte RUN = 0;
  /** Its outputs are its inputs (identities; {@code add_bp} of equal shapes, whose gradients are the output gradient). */
  static final byte ALIAS = 1;
  /** Its output is a view of its input in another shape ({@code reshape} of a contiguous array: no copy). */
  static final byte VIEW = 2;

  /**
   * Where one signature's outputs live: arena slot per op output, resolved arrays per arena generation;
   * how each step produces them ({@link #RUN}, {@link #ALIAS}, {@link #VIEW}).
   */
  private static final class Planned {
    final PlanArena.Slot[][] slots;
    final byte[] mode;
    /** ALIAS: per output, the position of the input it is. */
    final int[][] alias;
    /** VIEW: the output's shape. */
    final long[][] viewShape;
    /** VIEW: the last source array and its view, reused while the source is the same array. */
    final INDArray[] viewSource;
    final INDArray[] viewArray;
    INDArray[][] arrays;
    long generation = -1;

    Planned(PlanArena.Slot[][] slots, byte[] mode, int[][] alias, long[][] viewShape) {
      this.slots = slots;
      this.mode = mode;
      this.alias = alias;
      this.viewShape = viewShape;
      this.viewSource = new INDArray[mode.length];
      this.viewArray = new INDArray[mode.length];
    }

    /** Step k's output as a view of {@code source} (a copy first if the source is not contiguous). */
    INDArray view(int k, INDArray source) {
      if (viewSource[k] == source) {
        return viewArray[k];
      }
      if (!PlanRewrites.contiguous(source)) {
        return source.dup('c').reshape('c', viewShape[k]);
      }
      viewSource[k] = source;
      viewArray[k] = source.reshape('c', viewShape[k]);
      return viewArray[k];
    }
  }


  /** An intermediate of a planning run: its arena slot and how many reads of it are still to come. */
  private static final class Live {
    final PlanArena.Slot slot;
    int readers;

    Live(PlanArena.Slot slot, int readers) {
      this.slot = slot;
      this.readers = readers;
    }

    /** Returns the slot to the planning run's free list (its array may be reused from the next op on). */
    void freeInto(Map<String, Deque<Integer>> free) {
      free.computeIfAbsent(slot.key(), x -> new ArrayDeque<>()).push(slot.index());
    }
  }

  /** Runs the plan with the calling thread's arena; the returned arrays are the caller's. */
  Map<String, INDArray> run(Map<String, INDArray> placeholders) {
    PlanArena arena = PlanArena.current();
    List<Long> signature = new ArrayList<>();
    for (int i = 0; i < placeholderSlots.length; i++) {
      INDArray a = placeholders == null ? null : placeholders.get(placeholderNames.get(i));
      if (a == null) {
        throw new IllegalArgumentException("no array given for placeholder '" + placeholderNames.get(i) + "'");
      }
      values[placeholderSlots[i]] = a;
      signature.add((long) a.dataType().ordinal());
      for (long d : a.shape()) {
        signature.add(d);
      }
      signature.add(-1L);
    }
    for (int i = 0; i < fixedSlots.length; i++) {
      values[fixedSlots[i]] = fixedVars[i].getArr();
    }
    OpProfile.Recorder profile = OpProfile.active();
    try {
      Planned planned = plans.get(signature);
      if (planned == null) {
        if (plans.size() >= MAX_SIGNATURES) {
          plans.clear();
        }
        planned = planAndRun(arena, profile);
        plans.put(signature, planned);
      } else {
        if (planned.generation != arena.generation()) {
          planned.arrays = arena.resolve(planned.slots);
          planned.generation = arena.generation();
        }
        arena.touch(planned.slots);
        for (int k = 0; k < steps.size(); k++) {
          PlanStep s = steps.get(k);
          switch (planned.mode[k]) {
            case ALIAS -> {
              for (int i = 0; i < s.out.length; i++) {
                values[s.out[i]] = values[s.in[planned.alias[k][i]]];
              }
            }
            case VIEW -> values[s.out[0]] = planned.view(k, values[s.in[0]]);
            default -> {
              INDArray[] outs = planned.arrays[k];
              for (int i = 0; i < s.out.length; i++) {
                values[s.out[i]] = outs[i];
              }
              s.parameterize(values);
              s.runInto(outs, profile, false);
            }
          }
        }
      }
      Map<String, INDArray> result = new HashMap<>();
      for (int i = 0; i < outputs.length; i++) {
        result.put(outputs[i], values[outputSlots[i]].dup());
      }
      return result;
    } finally {
      Arrays.fill(values, null);
      arena.finishedRun();
    }
  }

  /** Signatures (placeholder shapes) kept per plan; more are rare (a changing batch size) and reset the cache. */
  private static final int MAX_SIGNATURES = 8;

  /**
   * First run of a signature: each op output takes a free arena slot of its shape (a slot frees when the
   * last reader of its array has run), and the op runs into it.
   */
  private Planned planAndRun(PlanArena arena, OpProfile.Recorder profile) {
    PlanArena.Slot[][] slots = new PlanArena.Slot[steps.size()][];
    INDArray[][] arrays = new INDArray[steps.size()][];
    Map<String, Integer> inUse = new HashMap<>();
    Map<String, Deque<Integer>> free = new HashMap<>();
    Map<INDArray, Live> live = new IdentityHashMap<>();
    int[] left = uses.clone();
    byte[] mode = new byte[steps.size()];
    int[][] alias = new int[steps.size()][];
    long[][] viewShape = new long[steps.size()][];
    for (int k = 0; k < steps.size(); k++) {
      PlanStep s = steps.get(k);
      INDArray[] outs;
      List<LongShapeDescriptor> shapes = null;
      if (!s.identity) {
        s.parameterize(values);
        shapes = s.substitute != null ? s.substitute.calculateOutputShape(s.oc)
            : s.df instanceof CustomOp c ? c.calculateOutputShape(s.oc) : ((BaseOp) s.df).calculateOutputShape(s.oc);
        if (shapes == null || shapes.size() != s.out.length) {
          throw new IllegalStateException("op " + s.op.getName() + ": " + (shapes == null ? 0 : shapes.size())
              + " output shapes for " + s.out.length + " outputs");
        }
      }
      int[] aliasOf = s.identity ? new int[] {0} : PlanRewrites.aliasedOutputs(s, values);
      long[] asView = aliasOf == null && !s.identity ? PlanRewrites.viewShape(s, shapes, values, opOutput) : null;
      if (aliasOf != null || asView != null) {
        if (!s.identity) {
          s.oc.purge(); // the op does not run: its context lets go of the inputs set for the shape calculation
        }
        mode[k] = aliasOf != null ? ALIAS : VIEW;
        alias[k] = aliasOf;
        viewShape[k] = asView;
        slots[k] = new PlanArena.Slot[0];
        outs = new INDArray[s.out.length];
        for (int i = 0; i < outs.length; i++) {
          INDArray source = values[s.in[aliasOf != null ? aliasOf[i] : 0]];
          outs[i] = aliasOf != null ? source : source.reshape('c', asView);
          Live l = live.get(source);
          if (l != null) { // the source lives as long as the output has readers
            l.readers += left[s.out[i]];
            live.put(outs[i], l);
          }
        }
      } else {
        outs = new INDArray[s.out.length];
        slots[k] = new PlanArena.Slot[s.out.length];
        for (int i = 0; i < outs.length; i++) {
          LongShapeDescriptor d = shapes.get(i);
          DataType dt = sd.getVariable(s.df.outputVariablesNames()[i]).dataType(); // a substitute keeps the first outputs
          if (d.dataType() != dt) {
            d = d.asDataType(dt);
          }
          String key = PlanArena.key(d);
          Deque<Integer> pool = free.get(key);
          int index;
          if (pool == null || pool.isEmpty()) {
            index = inUse.merge(key, 1, Integer::sum) - 1;
          } else {
            index = pool.pop();
          }
          PlanArena.Slot slot = new PlanArena.Slot(key, index, d);
          slots[k][i] = slot;
          outs[i] = arena.get(slot);
          live.put(outs[i], new Live(slot, left[s.out[i]]));
        }
        s.runInto(outs, profile, true);
      }
      arrays[k] = outs;
      for (int i = 0; i < s.out.length; i++) {
        values[s.out[i]] = outs[i];
        if (mode[k] == RUN && left[s.out[i]] == 0) {
          live.get(outs[i]).freeInto(free);
        }
      }
      for (int i : s.liveIn) {
        left[i]--;
        Live l = live.get(values[i]);
        if (l != null && --l.readers == 0) {
          l.freeInto(free);
        }
      }
    }
    Planned planned = new Planned(slots, mode, alias, viewShape);
    planned.arrays = arena.resolve(slots);
    planned.generation = arena.generation();
    arena.touch(slots);
    return planned;
  }

  /** Frees the plan's native op contexts (the arena's buffers belong to the thread). */
  void close() {
    for (PlanStep s : steps) {
      try {
        s.oc.close();
      } catch (Exception e) {
        // nothing to free
      }
    }
    plans.clear();
  }

}
