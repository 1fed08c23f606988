package io.github.nablagfn.examples.cli;

import io.github.nablagfn.core.train.NablaTrainer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A clean stop on SIGTERM or Ctrl-C (SIGINT) for a command-line run: a shutdown hook asks the trainer to
 * return after the iteration in progress ({@link NablaTrainer#requestStop()}, which writes a checkpoint of
 * it) and then waits, up to {@link #GRACE_SECONDS} seconds, until the run has closed this object, i.e.
 * finished what it was writing and removed its temporary files. The JVM then exits with the signal's status
 * (143 for SIGTERM, 130 for SIGINT). Running the same command again resumes.
 */
final class StopOnSignal implements AutoCloseable {
  /** How long the hook waits for the run to reach a clean state (an iteration and an evaluation fit easily). */
  static final long GRACE_SECONDS = 300;
  private final CountDownLatch finished = new CountDownLatch(1);
  private final Thread hook;
  private volatile boolean requested;
  private volatile NablaTrainer trainer;

  private StopOnSignal() {
    hook = new Thread(this::onSignal, "nabla-clean-stop");
  }

  static StopOnSignal install() {
    StopOnSignal s = new StopOnSignal();
    Runtime.getRuntime().addShutdownHook(s.hook);
    return s;
  }

  private void onSignal() {
    requested = true;
    NablaTrainer t = trainer;
    if (t != null) {
      t.requestStop();
    }
    System.err.println("nabla: stopping after the current iteration (a checkpoint is written; run the same "
        + "command again to continue)");
    try {
      if (!finished.await(GRACE_SECONDS, TimeUnit.SECONDS)) {
        System.err.println("nabla: not stopped cleanly within " + GRACE_SECONDS + " s; the newest checkpoint stays");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The trainer to stop; a stop already requested is passed on at once. */
  void attach(NablaTrainer t) {
    trainer = t;
    if (requested) {
      t.requestStop();
    }
  }

  /** Whether a signal asked the run to stop. */
  boolean requested() {
    return requested;
  }

  /** The run reached a clean state: the hook may let the JVM exit. Removes the hook if no signal came. */
  @Override
  public void close() {
    finished.countDown();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down (the hook is running): nothing to remove
    }
  }
}
