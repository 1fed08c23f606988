package io.github.nablagfn.core.runtime;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.BaseOp;
import org.nd4j.linalg.api.ops.BaseReduceOp;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.ReduceOp;
import org.nd4j.linalg.api.ops.ScalarOp;
import org.nd4j.linalg.api.ops.impl.transforms.same.Identity;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

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
 * as {@code deconv2d}; and an array that later ops read only for its shape is freed after its last value
 * read.
 *
 * <p>Graphs with control flow, control dependencies, tensor arrays, in-place assignment or views
 * (anything but plain custom and legacy ops and identities) are refused ({@link #supports}); callers
 * fall back to SameDiff. Intermediate shapes must follow from the placeholder shapes, which holds for graphs without
 * data-dependent shape ops; a plan re-checks every op's output shapes on the first run of a signature.
 */
final class GraphPlan {
  private final SameDiff sd;
  private final String[] outputs;
  private final List<Step> steps = new ArrayList<>();
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

  /** One op: where its inputs and outputs live in the slot table. */
  private static final class Step {
    final SameDiffOp op;
    final DifferentialFunction df;
    /** The op's inputs, in the order it takes them (a substitute's own inputs, if any). */
    int[] in;
    /** The op's outputs (a substitute's own outputs, if any). */
    int[] out;
    /** The distinct inputs whose values the op reads: they live until it has run. */
    int[] liveIn;
    final OpContext oc = Nd4j.getExecutioner().buildContext();
    final boolean identity;
    /** A faster op computing what the plan needs of {@link #op}'s outputs, or null: run instead of it. */
    DynamicCustomOp substitute;
    /** Whether the op context holds the op's integer/float/type/boolean arguments already. */
    boolean argsSet;

    Step(SameDiffOp op, int[] in, int[] out) {
      this.op = op;
      this.df = op.getOp();
      this.in = in;
      this.out = out;
      this.identity = df instanceof Identity;
    }

    /** Runs {@code sub} with inputs {@code in} into outputs {@code out} instead of the graph's op. */
    void substitute(DynamicCustomOp sub, int[] in, int[] out) {
      this.substitute = sub;
      this.in = in;
      this.out = out;
    }

    /**
     * The inputs whose values the op reads (an input it reads only for its shape does not keep that
     * array alive: see {@link #SHAPE_ONLY}).
     */
    int[] valueIn() {
      int shapeOnly = substitute != null ? 0 : shapeOnlyInputs(df.opName(), in.length, out.length);
      return Arrays.stream(in, shapeOnly, in.length).distinct().toArray();
    }

    String opName() {
      return substitute != null ? substitute.opName() : df.opName();
    }
  }

  /**
   * Ops that read their first inputs only for their shapes (libnd4j's kernels: the gradient of a sum or
   * a mean is the output gradient spread over the input's shape; {@code concat_bp} slices the output
   * gradient at the inputs' sizes). SameDiff's backward graph hands them the forward arrays, which
   * would keep every such array alive from the forward to the backward pass: GroupNorm's grouped copy,
   * its squared deviations, its zeros, its normalised output and its reshape are all only ever read this
   * way in backprop. The plan frees such arrays after their last value read and still passes the
   * array object (whose slot may hold another value by then: same shape, other contents).
   */
  private static final Map<String, Integer> SHAPE_ONLY = Map.of(
      "add_bp", 2, "subtract_bp", 2, "reduce_mean_bp", 1, "reduce_sum_bp", 1, "shape_of", 1,
      "zeroslike", 1, "ones_as", 1);

  /** How many leading inputs of {@code op} are read for their shapes only (0 if none). */
  static int shapeOnlyInputs(String op, int inputs, int outputs) {
    if (!SHAPE_ONLY_READS) {
      return 0;
    }
    if ("concat_bp".equals(op)) {
      return inputs == outputs + 1 ? outputs : 0; // the inputs, then the output gradient (axis as an argument)
    }
    return Math.min(SHAPE_ONLY.getOrDefault(op, 0), inputs);
  }

  /** System property: {@code false} keeps every input of an op alive until the op has run. */
  static final String SHAPE_ONLY_PROPERTY = "nabla.shapeOnlyReads";
  private static final boolean SHAPE_ONLY_READS =
      Boolean.parseBoolean(System.getProperty(SHAPE_ONLY_PROPERTY, "true"));

  /** System property: {@code false} keeps {@code conv2d_bp} where only its input gradient is used. */
  static final String INPUT_ONLY_CONV_BP_PROPERTY = "nabla.inputOnlyConvBackprop";

  /**
   * A {@code conv2d_bp} whose weight and bias gradients nothing reads (a frozen network differentiated
   * for its input: ε's Jacobian, reward scores) computes them anyway. With stride 1 its input gradient is
   * the transposed convolution of the output gradient with the same weights, whatever the padding:
   * {@code deconv2d}, with the same integer arguments (its weight layouts are conv2d's with
   * input and output channels swapped, which is what the transpose needs), in 40–60 % of the time at the
   * U-Net's shapes, and without reading the forward input, which is then freed right after its forward
   * use instead of living until the backward pass.
   */
  private void substituteInputOnlyConvBackprop(Step s, Set<Integer> read) {
    if (!"conv2d_bp".equals(s.df.opName()) || !(s.df instanceof DynamicCustomOp c)
        || !Boolean.parseBoolean(System.getProperty(INPUT_ONLY_CONV_BP_PROPERTY, "true"))) {
      return;
    }
    long[] i = c.iArgs();
    if (i.length < 9 || i[2] != 1 || i[3] != 1 || i[6] != 1 || i[7] != 1 || (s.in.length != 3 && s.in.length != 4)) {
      return; // stride > 1: the transposed convolution's output size is ambiguous; dilation: unused (oneDNN fails on it)
    }
    for (int k = 1; k < s.out.length; k++) {
      if (read.contains(s.out[k])) {
        return;
      }
    }
    DynamicCustomOp deconv = DynamicCustomOp.builder("deconv2d")
        .addIntegerArguments(Arrays.stream(i).mapToInt(Math::toIntExact).toArray()).build();
    s.substitute(deconv, new int[] {s.in[s.in.length - 1], s.in[1]}, new int[] {s.out[0]});
  }

  /** Whether {@code sd} can be planned for {@code outputs}; null if so, else the reason. */
  static String supports(SameDiff sd, Collection<String> outputs) {
    for (SameDiffOp op : neededOps(sd, outputs)) {
      DifferentialFunction df = op.getOp();
      boolean plain = df instanceof Identity
          || (df instanceof DynamicCustomOp && !df.getClass().getName().contains(".controlflow.")
              && !df.getClass().getName().contains(".shape.tensorops.")
              && !df.getClass().getSimpleName().equals("Assign")
              && !df.getClass().getSimpleName().equals("CreateView")
              && !df.getClass().getSimpleName().equals("Invoke"))
          || (df instanceof BaseOp && !(df instanceof CustomOp));
      if (!plain) {
        return "op " + op.getName() + " (" + df.getClass().getSimpleName() + ")";
      }
      if (op.getControlDeps() != null && !op.getControlDeps().isEmpty()) {
        return "op " + op.getName() + " has control dependencies";
      }
    }
    return null;
  }

  GraphPlan(SameDiff sd, Collection<String> outputs) {
    this.sd = sd;
    this.outputs = outputs.toArray(new String[0]);
    List<SameDiffOp> ops = neededOps(sd, outputs);
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
      steps.add(new Step(op, in, out));
    }
    outputSlots = new int[this.outputs.length];
    for (int i = 0; i < outputSlots.length; i++) {
      outputSlots[i] = slotFor(this.outputs[i], produced, fixed, fixedSlotList);
    }
    Set<Integer> read = new java.util.HashSet<>();
    for (Step s : steps) {
      for (int i : s.in) {
        read.add(i);
      }
    }
    for (int o : outputSlots) {
      read.add(o);
    }
    for (Step s : steps) {
      substituteInputOnlyConvBackprop(s, read);
      s.liveIn = s.valueIn();
    }
    opOutput = new boolean[slot.size()];
    for (Step s : steps) {
      for (int o : s.out) {
        opOutput[o] = true;
      }
    }
    placeholderSlots = placeholderNames.stream().mapToInt(slot::get).toArray();
    fixedVars = fixed.toArray(new SDVariable[0]);
    fixedSlots = fixedSlotList.stream().mapToInt(Integer::intValue).toArray();
    uses = new int[slot.size()];
    for (Step s : steps) {
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

  /** The ops that {@code outputs} depend on, in an order where every op follows its inputs' producers. */
  private static List<SameDiffOp> neededOps(SameDiff sd, Collection<String> outputs) {
    Map<String, SameDiffOp> needed = new LinkedHashMap<>();
    Deque<String> todo = new ArrayDeque<>(outputs);
    Map<String, Variable> vars = sd.getVariables();
    while (!todo.isEmpty()) {
      String v = todo.pop();
      Variable var = vars.get(v);
      if (var == null) {
        throw new IllegalArgumentException("no variable '" + v + "' in the graph");
      }
      String producer = var.getOutputOfOp();
      if (producer == null || needed.containsKey(producer)) {
        continue;
      }
      SameDiffOp op = sd.getOps().get(producer);
      needed.put(producer, op);
      if (op.getInputsToOp() != null) {
        todo.addAll(op.getInputsToOp());
      }
    }
    // Kahn's algorithm over the needed ops
    Map<String, Integer> pending = new HashMap<>();
    Map<String, List<String>> consumers = new HashMap<>();
    Deque<String> ready = new ArrayDeque<>();
    for (SameDiffOp op : needed.values()) {
      int n = 0;
      for (String in : op.getInputsToOp() == null ? List.<String>of() : new LinkedHashSet<>(op.getInputsToOp())) {
        String p = vars.get(in).getOutputOfOp();
        if (p != null && needed.containsKey(p)) {
          n++;
          consumers.computeIfAbsent(p, k -> new ArrayList<>()).add(op.getName());
        }
      }
      pending.put(op.getName(), n);
      if (n == 0) {
        ready.add(op.getName());
      }
    }
    List<SameDiffOp> order = new ArrayList<>();
    // walk in SameDiff's insertion order where possible, for reproducible plans
    List<String> insertion = new ArrayList<>(sd.getOps().keySet());
    Map<String, Integer> rank = new HashMap<>();
    for (int i = 0; i < insertion.size(); i++) {
      rank.put(insertion.get(i), i);
    }
    java.util.PriorityQueue<String> queue =
        new java.util.PriorityQueue<>((a, b) -> Integer.compare(rank.get(a), rank.get(b)));
    queue.addAll(ready);
    while (!queue.isEmpty()) {
      String name = queue.poll();
      order.add(needed.get(name));
      for (String c : consumers.getOrDefault(name, List.of())) {
        int left = pending.merge(c, -1, Integer::sum);
        if (left == 0) {
          queue.add(c);
        }
      }
    }
    if (order.size() != needed.size()) {
      throw new IllegalStateException("graph has a cycle among " + needed.size() + " ops");
    }
    return order;
  }

  /** How a step of a signature produces its outputs. */
  private static final byte RUN = 0;
  /** Its outputs are its inputs (identities; {@code add_bp} of equal shapes, whose gradients are the output gradient). */
  private static final byte ALIAS = 1;
  /** Its output is a view of its input in another shape ({@code reshape} of a contiguous array: no copy). */
  private static final byte VIEW = 2;

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
      if (!contiguous(source)) {
        return source.dup('c').reshape('c', viewShape[k]);
      }
      viewSource[k] = source;
      viewArray[k] = source.reshape('c', viewShape[k]);
      return viewArray[k];
    }
  }

  private static boolean contiguous(INDArray a) {
    return a.ordering() == 'c' && (a.length() <= 1 || a.elementWiseStride() == 1) && !a.isEmpty();
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
          Step s = steps.get(k);
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
              parameterize(s);
              runInto(s, outs, profile, false);
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
      Step s = steps.get(k);
      INDArray[] outs;
      List<LongShapeDescriptor> shapes = null;
      if (!s.identity) {
        parameterize(s);
        shapes = s.substitute != null ? s.substitute.calculateOutputShape(s.oc)
            : s.df instanceof CustomOp c ? c.calculateOutputShape(s.oc) : ((BaseOp) s.df).calculateOutputShape(s.oc);
        if (shapes == null || shapes.size() != s.out.length) {
          throw new IllegalStateException("op " + s.op.getName() + ": " + (shapes == null ? 0 : shapes.size())
              + " output shapes for " + s.out.length + " outputs");
        }
      }
      int[] aliasOf = s.identity ? new int[] {0} : aliasedOutputs(s);
      long[] asView = aliasOf == null && !s.identity ? viewShape(s, shapes) : null;
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
        runInto(s, outs, profile, true);
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

  /**
   * For an {@code add_bp} whose two operands and output gradient have one shape, both gradients are the
   * output gradient itself: the outputs alias input 2 instead of being two copies of it. Null otherwise.
   */
  private int[] aliasedOutputs(Step s) {
    if (s.substitute != null || !"add_bp".equals(s.df.opName()) || s.in.length != 3 || s.out.length != 2) {
      return null;
    }
    INDArray x = values[s.in[0]];
    INDArray y = values[s.in[1]];
    INDArray eps = values[s.in[2]];
    boolean same = Arrays.equals(x.shape(), eps.shape()) && Arrays.equals(y.shape(), eps.shape())
        && x.dataType() == eps.dataType() && y.dataType() == eps.dataType();
    return same ? new int[] {2, 2} : null;
  }

  /**
   * For a {@code reshape} of a contiguous op output, the output shape (the output is then a view of the
   * input, not a copy). Null otherwise: placeholders, variables and constants, whose arrays change between
   * runs, are still copied.
   */
  private long[] viewShape(Step s, List<LongShapeDescriptor> shapes) {
    if (s.substitute != null || !"reshape".equals(s.df.opName()) || !opOutput[s.in[0]]) {
      return null;
    }
    INDArray in = values[s.in[0]];
    LongShapeDescriptor d = shapes.get(0);
    if (!contiguous(in) || d.isEmpty() || d.dataType() != in.dataType() || d.getOrder() != 'c'
        || Arrays.stream(d.getShape()).reduce(1L, (a, b) -> a * b) != in.length()) {
      return null;
    }
    return d.getShape();
  }

  /** Frees the plan's native op contexts (the arena's buffers belong to the thread). */
  void close() {
    for (Step s : steps) {
      try {
        s.oc.close();
      } catch (Exception e) {
        // nothing to free
      }
    }
    plans.clear();
  }

  /**
   * Sets the op's inputs and arguments as SameDiff's session does, except that the integer, float, type
   * and boolean arguments are set once per op context (setting them allocates native memory each time).
   * Inputs and outputs are set on every execution and cleared after it ({@link #runInto}): the native
   * context keeps a wrapper of every array set into it, holding that array's memory, until purged.
   */
  private void parameterize(Step s) {
    INDArray[] args = new INDArray[s.in.length];
    for (int i = 0; i < args.length; i++) {
      args[i] = values[s.in[i]];
    }
    DynamicCustomOp custom = s.substitute != null ? s.substitute
        : s.df instanceof DynamicCustomOp d ? d : null;
    if (custom != null) {
      DynamicCustomOp c = custom;
      if (!s.argsSet) {
        s.oc.setArgs(args, c.iArgs(), c.dArgs(), c.tArgs(), c.bArgs());
        s.argsSet = true;
      } else {
        for (int i = 0; i < args.length; i++) {
          s.oc.setInputArray(i, args[i]);
        }
      }
      return;
    }
    boolean axisArg = false;
    if (s.df instanceof ReduceOp r && r.getOpType() != Op.Type.REDUCE3 && args.length == 2) {
      INDArray axes = args[1];
      if (axes.isEmpty()) {
        s.df.setDimensions(null);
        ((BaseReduceOp) r).setEmptyReduce(true);
      } else {
        s.df.setDimensions(Shape.normalizeAxis(args[0].rank(), axes.toIntVector()));
        ((BaseReduceOp) r).setEmptyReduce(false);
      }
      axisArg = true;
    } else if (s.df instanceof ScalarOp so && args.length == 2) {
      so.setScalar(args[1]);
    }
    int n = args.length == 2 && !axisArg ? 2 : Math.min(args.length, 1);
    for (int i = 0; i < n; i++) {
      s.oc.setInputArray(i, args[i]);
    }
  }

  /**
   * Runs one op, whose inputs {@link #parameterize} has set, into {@code outs}; {@code verify} (planning
   * runs) checks the op wrote where it was told.
   */
  private void runInto(Step s, INDArray[] outs, OpProfile.Recorder profile, boolean verify) {
    for (int i = 0; i < outs.length; i++) {
      s.oc.setOutputArray(i, outs[i]);
    }
    long t0 = profile == null ? 0 : System.nanoTime();
    if (s.substitute != null) {
      Nd4j.exec(s.substitute, s.oc);
    } else if (s.df instanceof CustomOp c) {
      Nd4j.exec(c, s.oc);
    } else {
      Nd4j.exec((Op) s.df, s.oc);
    }
    if (profile != null) {
      profile.op(s.opName(), System.nanoTime() - t0);
    }
    if (verify) {
      for (int i = 0; i < outs.length; i++) {
        if (s.oc.getOutputArray(i) != outs[i]) {
          throw new IllegalStateException("op " + s.op.getName() + " replaced its output array");
        }
      }
    }
    s.oc.purge();
  }
}
