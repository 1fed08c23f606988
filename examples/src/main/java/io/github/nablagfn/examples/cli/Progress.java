package io.github.nablagfn.examples.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long loop: a bar with ETA and live metrics on a terminal, plain log lines (every 10 %)
 * when the output is not a terminal (CI, files).
 */
final class Progress implements AutoCloseable {
  private final ProgressBar bar;
  private final String task;
  private final long total;
  private final long start = System.nanoTime();
  private long done;

  Progress(String task, long total) {
    this.task = task;
    this.total = total;
    this.bar = System.console() == null ? null : new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
        .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).build();
  }

  void step(String metrics) {
    done++;
    if (bar != null) {
      bar.step();
      bar.setExtraMessage(" " + metrics);
    } else if (done == total || done % Math.max(1, total / 10) == 0) {
      double s = (System.nanoTime() - start) / 1e9;
      System.out.printf(java.util.Locale.ROOT, "%s %d/%d (%.0f s, ETA %.0f s) %s%n", task, done, total, s, s / done * (total - done), metrics);
    }
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
