package io.github.nablagfn.core.runtime;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.Supplier;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process-wide runtime settings of the ND4J backend.
 *
 * <p>Thread count: ND4J's native loops use OpenMP. On a 2-core machine one thread was as fast as two
 * when nothing else ran, and two degraded badly when the other core was busy, so the count is a
 * setting: {@link #setThreads(int)}, or the system property {@code nabla.threads} read by
 * {@link #init()}.
 *
 * <p>Two process-wide behaviours are the application's choice and are off unless it opts in (the
 * command line and the examples do; so does the test build): silencing SameDiff's own {@code System.out}
 * prints while gradient graphs are built ({@link #setQuietSameDiff(boolean)}, property
 * {@code nabla.quietSameDiff=true}) and collecting garbage to free native memory when the process is large
 * ({@link #setMemoryRelief(long)}, property {@code nabla.gcAboveMb}). A library user who wants neither
 * does nothing.
 */
public final class NablaRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(NablaRuntime.class);
  /** System property holding the thread count applied by {@link #init()}. */
  public static final String THREADS_PROPERTY = "nabla.threads";
  /**
   * System property: resident size in MiB above which {@link #relieveMemory()} collects garbage. Unset
   * (the default) or 0: never. The command line uses 2048.
   */
  public static final String GC_ABOVE_PROPERTY = "nabla.gcAboveMb";
  /** System property: {@code true} makes {@link #quietly} silence {@code System.out} (default false). */
  public static final String QUIET_SAMEDIFF_PROPERTY = "nabla.quietSameDiff";
  private static volatile long gcAboveBytes = mebibytesProperty(GC_ABOVE_PROPERTY) << 20;
  private static volatile boolean quietSameDiff = Boolean.getBoolean(QUIET_SAMEDIFF_PROPERTY);
  private static volatile boolean initialised;

  private NablaRuntime() {}

  /** Applies {@code nabla.threads} if set. Idempotent; called by the library's entry points. */
  public static synchronized void init() {
    if (initialised) {
      return;
    }
    initialised = true;
    if (System.getenv("OMP_WAIT_POLICY") == null && System.getenv("GOMP_SPINCOUNT") == null) {
      LOG.info("ND4J's OpenMP threads spin-wait by default, "
          + "which slows this process 10-15x when another busy process shares its cores; set the environment "
          + "variable GOMP_SPINCOUNT=1000 (or OMP_WAIT_POLICY=PASSIVE) before starting the JVM, as bin/nabla "
          + "does (docs/performance.md, \"Sharing the cores\")");
    }
    String value = System.getProperty(THREADS_PROPERTY);
    if (value != null && !value.isBlank()) {
      int threads;
      try {
        threads = Integer.parseInt(value.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "system property " + THREADS_PROPERTY + " = '" + value + "' is not an integer; expected 1.."
                + Runtime.getRuntime().availableProcessors(), e);
      }
      setThreads(threads);
    }
  }

  /** Sets the number of native (OpenMP) threads ND4J uses; must be at least 1. */
  public static void setThreads(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads = " + threads + "; expected at least 1");
    }
    // OpenMP loops of libnd4j, its own thread pool, and the BLAS library each have a setting.
    // (Environment.setMaxThreads cannot lower the count below the start-up value in M2.1, measured;
    // OMP_NUM_THREADS before start-up can.)
    Nd4j.getBackend(); // loads the native library before NativeOpsHolder is touched
    NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
    Nd4j.getEnvironment().setMaxMasterThreads(threads);
    Nd4j.getEnvironment().setMaxThreads(threads);
    Nd4j.factory().blas().setMaxThreads(threads);
    LOG.debug("ND4J threads set to {}", threads);
  }

  /** The number of OpenMP threads ND4J's native loops currently use. */
  public static int threads() {
    Nd4j.getBackend();
    return NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
  }

  /**
   * For applications (a command line, an example main, a Spark job's executors), not libraries: applies
   * {@link #init()}, then silences SameDiff's prints and relieves memory above {@code gcAboveMb} MiB, each
   * unless its system property ({@code nabla.quietSameDiff}, {@code nabla.gcAboveMb}) sets it otherwise.
   */
  public static void initApplication(long gcAboveMb) {
    init();
    if (System.getProperty(QUIET_SAMEDIFF_PROPERTY) == null) {
      setQuietSameDiff(true);
    }
    if (System.getProperty(GC_ABOVE_PROPERTY) == null) {
      setMemoryRelief(gcAboveMb);
    }
  }

  /**
   * Whether {@link #quietly} silences {@code System.out}. SameDiff prints "Added differentiated op ..."
   * with a hard-coded {@code System.out.println} (not a logger) when it first builds a gradient function;
   * swapping {@code System.out} hides that but affects every thread of the process, so it is the
   * application's decision. Off by default; {@code nabla.quietSameDiff=true} sets it at start-up.
   */
  public static void setQuietSameDiff(boolean quiet) {
    quietSameDiff = quiet;
  }

  /** Whether {@link #quietly} currently silences {@code System.out}. */
  public static boolean quietSameDiff() {
    return quietSameDiff;
  }

  /**
   * Runs {@code action}, with {@code System.out} silenced if the application opted in
   * ({@link #setQuietSameDiff(boolean)}); graph builders call this around {@code createGradFunction()}.
   * Safe from several threads (trainers built side by side, as Spark tasks do): the stream to restore is
   * read under the lock, so a second caller never takes the first one's silenced stream for the original.
   */
  public static <T> T quietly(Supplier<T> action) {
    if (!quietSameDiff) {
      return action.get();
    }
    synchronized (NablaRuntime.class) {
      PrintStream original = System.out;
      System.setOut(new PrintStream(OutputStream.nullOutputStream()));
      try {
        return action.get();
      } finally {
        System.setOut(original);
      }
    }
  }

  /**
   * Turns on {@link #relieveMemory()}: a garbage collection when the process's resident size exceeds
   * {@code mebibytes}; 0 turns it off (the default unless {@code nabla.gcAboveMb} is set).
   *
   * @throws IllegalArgumentException if {@code mebibytes} is negative
   */
  public static void setMemoryRelief(long mebibytes) {
    if (mebibytes < 0 || mebibytes > (Long.MAX_VALUE >> 20)) {
      throw new IllegalArgumentException("memory relief threshold = " + mebibytes
          + " MiB; expected 0 (off) or a positive size in MiB");
    }
    gcAboveBytes = mebibytes << 20;
  }

  /** The resident size in MiB above which {@link #relieveMemory()} collects; 0 when it is off. */
  public static long memoryReliefMebibytes() {
    return gcAboveBytes >> 20;
  }

  /**
   * Frees the native memory of arrays that are no longer referenced, when the application turned this on
   * ({@link #setMemoryRelief(long)}) and the process is large; otherwise does nothing.
   *
   * <p>ND4J 1.0.0-M2.1 frees an off-heap array only when the garbage collector finalises its Java owner,
   * and the Java heap barely grows while gigabytes of native activations are dropped, so collections come
   * late (or from JavaCPP's own limit, with sleeps). Measured on the small U-Net, one training step at
   * batch 64 produces ≈ 4 GB of op outputs; without collection steps took 3–11 s (fresh memory being
   * faulted in), with a collection after each step 1.1–2 s at a steady resident size. A collection costs
   * ≈ 30–60 ms, so it is done only when the resident size exceeds the threshold, and at most once per ten
   * collection times (the time since the last collection must be at least 10× what it took): overhead
   * ≤ 10 %. A small model in a large process (a test JVM that ran a U-Net before) paid 50 collections per
   * iteration without that rule (130 s instead of 10 s for 20 toy iterations). The trainers and samplers
   * call this after each step.
   */
  public static void relieveMemory() {
    long threshold = gcAboveBytes;
    if (threshold <= 0) {
      return;
    }
    long now = System.nanoTime();
    if (now - lastCollectionEnd < 10 * lastCollectionNanos) {
      return;
    }
    if (org.bytedeco.javacpp.Pointer.physicalBytes() > threshold) {
      System.gc();
      long end = System.nanoTime();
      lastCollectionNanos = end - now;
      lastCollectionEnd = end;
    }
  }

  private static long mebibytesProperty(String name) {
    String value = System.getProperty(name);
    if (value == null || value.isBlank()) {
      return 0;
    }
    long mebibytes;
    try {
      mebibytes = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "system property " + name + " = '" + value + "' is not an integer; expected a size in MiB (0 = off)", e);
    }
    if (mebibytes < 0 || mebibytes > (Long.MAX_VALUE >> 20)) {
      throw new IllegalArgumentException(
          "system property " + name + " = " + mebibytes + "; expected 0 (off) or a positive size in MiB");
    }
    return mebibytes;
  }

  private static volatile long lastCollectionEnd = System.nanoTime();
  private static volatile long lastCollectionNanos = 50_000_000L;
}
