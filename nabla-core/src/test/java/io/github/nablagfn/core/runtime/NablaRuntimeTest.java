package io.github.nablagfn.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class NablaRuntimeTest {
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
