package io.github.nablagfn.examples;

import io.github.nablagfn.core.runtime.NablaRuntime;

/**
 * What the command line and the example mains choose for their own process, on top of
 * {@link NablaRuntime#init()}: SameDiff's start-up prints are silenced and native memory is relieved by a
 * garbage collection once the process passes 2048 MiB (see {@link NablaRuntime#relieveMemory()}). The
 * library leaves both off; {@code -Dnabla.quietSameDiff=false} or {@code -Dnabla.gcAboveMb=0} on the
 * command line turn them off here too.
 */
public final class AppRuntime {
  /** The threshold the applications use unless {@code nabla.gcAboveMb} says otherwise. */
  public static final long DEFAULT_GC_ABOVE_MB = 2048;

  private AppRuntime() {}

  /** Applies the thread setting and the applications' two process-wide choices. Idempotent. */
  public static void init() {
    NablaRuntime.initApplication(DEFAULT_GC_ABOVE_MB);
  }
}
