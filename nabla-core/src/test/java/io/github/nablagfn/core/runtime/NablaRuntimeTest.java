package io.github.nablagfn.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class NablaRuntimeTest {
  /** Runs {@code body} with the quiet setting forced, restoring the process's own choice afterwards. */
  private static void withQuiet(boolean quiet, Runnable body) {
    boolean before = NablaRuntime.quietSameDiff();
    NablaRuntime.setQuietSameDiff(quiet);
    try {
      body.run();
    } finally {
      NablaRuntime.setQuietSameDiff(before);
    }
  }

  /** Found by the Spark layer: two trainers built side by side left System.out silenced for good. */
  @Test
  void silencingFromManyThreadsRestoresTheOriginalStream() throws Exception {
    boolean before = NablaRuntime.quietSameDiff();
    NablaRuntime.setQuietSameDiff(true);
    try {
      silenceFromManyThreads();
    } finally {
      NablaRuntime.setQuietSameDiff(before);
    }
  }

  private static void silenceFromManyThreads() throws Exception {
    java.io.PrintStream original = System.out;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      java.util.List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
      for (int i = 0; i < 40; i++) {
        // a slow action, as a graph build is: the other threads queue up while the stream is silenced
        results.add(pool.submit(() -> NablaRuntime.quietly(() -> {
          try {
            Thread.sleep(2);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return System.out != original;
        })));
      }
      for (java.util.concurrent.Future<Boolean> f : results) {
        assertThat(f.get()).as("silenced inside").isTrue();
      }
    } finally {
      pool.shutdown();
    }
    assertThat(System.out).isSameAs(original);
  }

  @Test
  void threadCountIsASetting() {
    int before = NablaRuntime.threads();
    try {
      NablaRuntime.setThreads(1);
      assertThat(NablaRuntime.threads()).isEqualTo(1);
    } finally {
      NablaRuntime.setThreads(before);
    }
    assertThatThrownBy(() -> NablaRuntime.setThreads(0)).hasMessageContaining("threads = 0");
  }

  @Test
  void quietlySilencesStandardOutputAndRestoresIt() {
    withQuiet(true, NablaRuntimeTest::printInsideAndAfter);
  }

  /** A library must not touch System.out unless the application asked: the default lets the print through. */
  @Test
  void withoutTheApplicationsConsentQuietlyLeavesStandardOutputAlone() {
    java.io.PrintStream original = System.out;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    java.io.PrintStream mine = new java.io.PrintStream(captured, true);
    System.setOut(mine);
    try {
      withQuiet(false, () -> {
        boolean same = NablaRuntime.quietly(() -> {
          System.out.print("inside;");
          return System.out == mine;
        });
        assertThat(same).as("System.out swapped although nobody opted in").isTrue();
      });
    } finally {
      System.setOut(original);
    }
    assertThat(captured.toString()).isEqualTo("inside;");
  }

  @Test
  void memoryReliefIsASettingAndRefusesNegativeSizes() {
    long before = NablaRuntime.memoryReliefMebibytes();
    try {
      NablaRuntime.setMemoryRelief(0);
      assertThat(NablaRuntime.memoryReliefMebibytes()).isZero();
      NablaRuntime.setMemoryRelief(4096);
      assertThat(NablaRuntime.memoryReliefMebibytes()).isEqualTo(4096);
    } finally {
      NablaRuntime.setMemoryRelief(before);
    }
    assertThatThrownBy(() -> NablaRuntime.setMemoryRelief(-1)).hasMessageContaining("-1 MiB")
        .hasMessageContaining("expected 0 (off)");
  }

  private static void printInsideAndAfter() {
    java.io.PrintStream original = System.out;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(captured, true));
    try {
      int v = NablaRuntime.quietly(() -> {
        System.out.println("Added differentiated op x");
        return 42;
      });
      System.out.print("after");
      assertThat(v).isEqualTo(42);
    } finally {
      System.setOut(original);
    }
    assertThat(captured.toString()).isEqualTo("after");
  }
}
