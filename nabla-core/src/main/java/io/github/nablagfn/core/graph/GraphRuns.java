package io.github.nablagfn.core.graph;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.autodiff.samediff.config.SDValue;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.memory.AbstractMemoryMgr;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Graph executions that give their memory back: gradient runs that release arrays during the backward
 * pass and close what is left when they return, and forward runs that do not grow the session.
 *
 * <p>By default every run goes through a {@link GraphPlan} of the graph (compiled once per placeholder
 * shapes, executed op by op into a per-thread arena, bit-identical to SameDiff; see performance.md). What
 * follows is the fallback for graphs a plan refuses (control flow and the like) and for
 * {@code -Dnabla.graphPlans=false}: SameDiff's own session, with its memory given back.
 *
 * <p>SameDiff 1.0.0-M2.1 runs {@code calculateGradients*} in the graph's {@code "grad"} function with
 * array release switched off, so a run holds every activation until it ends, and the session keeps every
 * value of the last run in its {@code nodeValueOutputs} map until the next run overwrites it. Measured on
 * the small U-Net (LoRA 8, flow U-Net, batch 8): the four gradient graphs of one Residual ∇-DB iteration
 * kept 950, 950, 976 and 1698 MB alive between iterations (4.5 GB of a 5 GB resident size after a full
 * collection). {@link #gradientsAndOutputs} instead executes the same grad function with release on and a
 * memory manager that closes each array as soon as SameDiff's dependency tracking releases it (no cache),
 * then closes every array the session still holds except those sharing memory with the returned arrays,
 * the caller's placeholders, or the graph's variables and constants, and empties the map. Resident size of
 * that soak after a collection: 7.7 GB before, 2.25 GB with closing after the run, 1.2 GB with release
 * during it. Equality with SameDiff's own call, bit for bit, is tested on a toy graph and on the U-Net
 * (all parameter and input gradients, several runs); {@code -Dnabla.releaseDuringBackprop=false} goes
 * back to SameDiff's own call (closing after the run stays).
 *
 * <p>Every session also records the id of each array it has released in a set that is never emptied
 * ({@code InferenceSession.freedArrays}: ids are unique, so it only guards against a double release
 * within one run); at ≈ 60 bytes per entry and tens of thousands of released arrays per sampling pass,
 * that is a Java-heap leak of about a megabyte per iteration. {@link #output} and
 * {@link #gradientsAndOutputs} empty it after each run.
 */
public final class GraphRuns {
  /** System property: {@code false} runs gradients with SameDiff's own call (no release during the run). */
  public static final String RELEASE_PROPERTY = "nabla.releaseDuringBackprop";
  private static final Logger LOG = LoggerFactory.getLogger(GraphRuns.class);
  private static final Field FREED_IDS = freedIdsField();
  private static final boolean RELEASE_DURING_RUN =
      Boolean.parseBoolean(System.getProperty(RELEASE_PROPERTY, "true"));

  /** System property: {@code false} runs every graph with SameDiff's session instead of a {@link GraphPlan}. */
  public static final String PLANS_PROPERTY = "nabla.graphPlans";
  private static volatile boolean plans = Boolean.parseBoolean(System.getProperty(PLANS_PROPERTY, "true"));

  private GraphRuns() {}

  /** Whether graphs run through plans (the property {@link #PLANS_PROPERTY}, or a test's {@link #withPlans}). */
  static boolean plansOn() {
    return plans;
  }

  /** Runs {@code body} with plans switched on or off (tests compare both paths); not for concurrent use. */
  static <T> T withPlans(boolean on, Supplier<T> body) {
    boolean before = plans;
    plans = on;
    try {
      return body.get();
    } finally {
      plans = before;
    }
  }

  /**
   * The graph's outputs for the placeholders: by the thread's {@link GraphPlan} for the graph when it can
   * be planned (see {@link #PLANS_PROPERTY}), else {@link SameDiff#output(Map, String...)} followed by
   * forgetting the ids of the arrays the run released. The returned arrays are the caller's.
   */
  public static Map<String, INDArray> output(SameDiff sd, Map<String, INDArray> placeholders,
      String... outputs) {
    GraphPlan plan = plans ? Plans.planFor(sd, List.of(outputs)) : null;
    if (plan != null) {
      return profiled(sd, () -> plan.run(placeholders));
    }
    Map<String, INDArray> out = profiled(sd, () -> sd.output(placeholders, outputs));
    forgetReleasedIds(sd.getSessions().get(Thread.currentThread().getId()));
    return out;
  }

  /**
   * The outputs and gradients {@link SameDiff#calculateGradientsAndOutputs} gives, bit for bit: by the
   * thread's {@link GraphPlan} of the graph's grad function when it can be planned, else by SameDiff's
   * session followed by freeing the run's intermediates. The returned arrays are the caller's.
   */
  public static OutAndGrad gradientsAndOutputs(SameDiff sd, Map<String, INDArray> placeholders,
      Collection<String> outputs, Collection<String> gradientsOf) {
    if (plans) {
      OutAndGrad planned = planned(sd, placeholders, outputs, gradientsOf);
      if (planned != null) {
        return planned;
      }
    }
    OutAndGrad og = profiled(sd, () -> RELEASE_DURING_RUN ? releasing(sd, placeholders, outputs, gradientsOf)
        : sd.calculateGradientsAndOutputs(placeholders, outputs, gradientsOf));
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

  /** The gradient run by the thread's plan of the grad function, or null if it cannot be planned. */
  private static OutAndGrad planned(SameDiff sd, Map<String, INDArray> placeholders, Collection<String> outputs,
      Collection<String> gradientsOf) {
    sd.createGradFunction();
    SameDiff grad = sd.getFunction("grad");
    List<String> names = new ArrayList<>();
    Map<String, String> gradName = gradientNames(sd, outputs, gradientsOf, names);
    GraphPlan plan = Plans.planFor(grad, names);
    if (plan == null) {
      return null;
    }
    Map<String, INDArray> all = profiled(sd, () -> plan.run(placeholders));
    return split(all, outputs, gradientsOf, gradName);
  }

  /** Fills {@code names} with the outputs and the gradient variables to compute; returns var → gradient name. */
  private static Map<String, String> gradientNames(SameDiff sd, Collection<String> outputs,
      Collection<String> gradientsOf, List<String> names) {
    if (outputs != null) {
      names.addAll(outputs);
    }
    Map<String, String> gradName = new LinkedHashMap<>();
    if (gradientsOf != null) {
      for (String v : gradientsOf) {
        if (!sd.hasVariable(v)) {
          throw new IllegalArgumentException("no variable '" + v + "' in the graph to take the gradient of");
        }
        SDVariable g = sd.getVariable(v).getGradient();
        if (g != null) {
          gradName.put(v, g.name());
          names.add(g.name());
        }
      }
    }
    return gradName;
  }

  private static OutAndGrad split(Map<String, INDArray> all, Collection<String> outputs,
      Collection<String> gradientsOf, Map<String, String> gradName) {
    Map<String, INDArray> outs = null;
    if (outputs != null) {
      outs = new HashMap<>();
      for (String o : outputs) {
        outs.put(o, all.get(o));
      }
    }
    Map<String, INDArray> grads = gradientsOf == null ? null : new HashMap<>();
    gradName.forEach((v, g) -> grads.put(v, all.get(g)));
    return new OutAndGrad(outs, grads);
  }

  private static OutAndGrad releasing(SameDiff sd, Map<String, INDArray> placeholders,
      Collection<String> outputs, Collection<String> gradientsOf) {
    sd.createGradFunction();
    SameDiff grad = sd.getFunction("grad");
    List<String> names = new ArrayList<>();
    Map<String, String> gradName = gradientNames(sd, outputs, gradientsOf, names);
    grad.setEnableCache(true);
    grad.setListeners(sd.getListeners()); // as SameDiff's own gradient call does
    InferenceSession session = grad.getSessions().computeIfAbsent(Thread.currentThread().getId(),
        k -> SameDiff.getInferenceFactory().create(grad));
    if (!(session.getMmgr() instanceof Closing)) {
      session.setMmgr(new Closing());
    }
    Map<String, INDArray> all = grad.output(placeholders, names.toArray(new String[0]));
    return split(all, outputs, gradientsOf, gradName);
  }

  /**
   * A graph's plans, per thread and per output set, kept with the graph itself (as a listener that is
   * never active) so they are collected with it: a plan references its graph throughout (ops, variables),
   * so any map from graphs to plans held elsewhere would keep every graph ever run alive.
   */
  static final class Plans extends BaseListener {
    private final Map<Thread, Map<List<String>, java.util.Optional<GraphPlan>>> byThread =
        Collections.synchronizedMap(new java.util.WeakHashMap<>());
    private volatile int ops = -1;
    /** The graph these plans are of (listener lists get copied between graphs, e.g. to grad functions). */
    private final SameDiff owner;

    private Plans(SameDiff owner) {
      this.owner = owner;
    }

    @Override
    public boolean isActive(Operation operation) {
      return false;
    }

    /** The plans of {@code sd}, attached to it on first use. */
    static Plans of(SameDiff sd) {
      synchronized (sd) {
        for (Listener l : sd.getListeners()) {
          if (l instanceof Plans p && p.owner == sd) {
            return p;
          }
        }
        Plans p = new Plans(sd);
        sd.addListeners(p);
        return p;
      }
    }

    /** The calling thread's plan of {@code sd} for {@code outputs}, or null if it cannot be planned. */
    static GraphPlan planFor(SameDiff sd, List<String> outputs) {
      Plans holder = of(sd);
      int now = sd.getOps().size();
      if (holder.ops != now) { // ops were added since: plan again
        synchronized (holder.byThread) {
          holder.byThread.values().forEach(m -> m.values().forEach(p -> p.ifPresent(GraphPlan::close)));
          holder.byThread.clear();
        }
        holder.ops = now;
      }
      Map<List<String>, java.util.Optional<GraphPlan>> mine =
          holder.byThread.computeIfAbsent(Thread.currentThread(), k -> new HashMap<>());
      return mine.computeIfAbsent(List.copyOf(outputs), o -> {
        String why = GraphPlan.supports(sd, o);
        if (why != null) {
          LOG.debug("graph runs through SameDiff's session: {}", why);
          return java.util.Optional.<GraphPlan>empty(); // remembered: not checked again
        }
        return java.util.Optional.of(new GraphPlan(sd, o));
      }).orElse(null);
    }
  }

  /** Allocates fresh arrays and closes each one SameDiff releases. */
  static final class Closing extends AbstractMemoryMgr {
    @Override
    public INDArray allocate(boolean detached, DataType dataType, long... shape) {
      return Nd4j.createUninitializedDetached(dataType, shape);
    }

    @Override
    public INDArray allocate(boolean detached, LongShapeDescriptor d) {
      return d.isEmpty() ? Nd4j.create(d) : Nd4j.createUninitializedDetached(d.dataType(), d.getShape());
    }

    @Override
    public void release(INDArray array) {
      if (array.closeable()) {
        array.close();
      }
    }

    @Override
    public void close() {}
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

  /**
   * Runs {@code run} on {@code sd} with the active {@link OpProfile} attached (a finished one is
   * detached) and adds the run's wall time to it.
   */
  private static <T> T profiled(SameDiff sd, Supplier<T> run) {
    OpProfile.Recorder active = OpProfile.active();
    List<Listener> listeners = sd.getListeners();
    listeners.removeIf(l -> l instanceof OpProfile.Recorder && l != active);
    if (active == null) {
      return run.get();
    }
    if (!listeners.contains(active)) {
      sd.addListeners(active);
    }
    long t0 = System.nanoTime();
    T result = run.get();
    active.execution(System.nanoTime() - t0);
    return result;
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
      LOG.warn("this SameDiff version has no InferenceSession.freedArrays;"
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
