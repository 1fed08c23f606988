package io.github.nablagfn.core.io;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fault injection for crash-safety tests: the library's file writers pass named points (temporary file
 * created, bytes written, flushed, before the rename, before deleting an old file); when armed, the n-th
 * point reached throws an {@link IOException}, as a full disk or a failing device would. Disarmed (the
 * default) a point costs one atomic read. Not for production use.
 */
public final class FaultPoints {
  private static final AtomicInteger COUNTDOWN = new AtomicInteger(-1);
  private static final AtomicInteger PASSED = new AtomicInteger();

  private FaultPoints() {}

  /** The {@code n}-th point reached from now (0 = the next) fails once; then disarmed. */
  public static void failAt(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("n = " + n + "; expected >= 0");
    }
    PASSED.set(0);
    COUNTDOWN.set(n);
  }

  /** No failure is injected; returns how many points were reached while armed (since the last {@link #failAt}). */
  public static int disarm() {
    COUNTDOWN.set(-1);
    return PASSED.get();
  }

  /** Called by writers at each point. */
  static void reach(String point) throws IOException {
    if (COUNTDOWN.get() < 0) {
      return;
    }
    PASSED.incrementAndGet();
    if (COUNTDOWN.getAndDecrement() == 0) {
      COUNTDOWN.set(-1);
      throw new IOException("injected failure at " + point + " (FaultPoints test hook)");
    }
  }

  /** For writers outside this package. */
  public static void reachPoint(String point) throws IOException {
    reach(point);
  }
}
