package io.github.nablagfn.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run directory lock, between threads of this JVM and against another JVM, alive and dead. */
class RunLockTest {
  @TempDir Path dir;

  /** The other process: takes the lock, says so, and holds it until killed. */
  public static void main(String[] args) throws Exception {
    RunLock lock = RunLock.acquire(Path.of(args[0]));
    System.out.println("locked " + lock.file());
    System.out.flush();
    Thread.sleep(TimeUnit.MINUTES.toMillis(5));
  }

  @Test
  void aSecondHolderInThisProcessIsRefusedAndCloseReleases() throws Exception {
    Path run = dir.resolve("run");
    try (RunLock lock = RunLock.acquire(run)) {
      assertThat(Files.readString(lock.file())).contains("pid=" + ProcessHandle.current().pid());
      assertThatThrownBy(() -> RunLock.acquire(run)).isInstanceOf(RunLock.HeldException.class)
          .hasMessageContaining(RunLock.FILE_NAME).hasMessageContaining("already held by this process");
    }
    assertThat(Files.readString(run.resolve(RunLock.FILE_NAME))).as("emptied on close").isEmpty();
    try (RunLock again = RunLock.acquire(run)) {
      assertThat(again.file()).exists();
    }
  }

  @Test
  void anotherLiveProcessIsNamedAndADeadOnesLockIsTakenOver() throws Exception {
    Path run = dir.resolve("run");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), RunLockTest.class.getName(),
        run.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start(); // stdout: the child's lines only
        // (the JVM writes notes such as "Picked up JAVA_TOOL_OPTIONS" to stderr)
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertThat(line).as("the child's first line").startsWith("locked");
      assertThatThrownBy(() -> RunLock.acquire(run)).isInstanceOf(RunLock.HeldException.class)
          .hasMessageContaining(run.resolve(RunLock.FILE_NAME).toString())
          .hasMessageContaining("held by process " + child.pid())
          .satisfies(e -> assertThat(((RunLock.HeldException) e).holder()).hasValue(child.pid()));
    } finally {
      child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    // the child died holding it: its pid is still in the file, the OS lock went with it
    assertThat(Files.readString(run.resolve(RunLock.FILE_NAME))).contains("pid=" + child.pid());
    try (RunLock taken = RunLock.acquire(run)) {
      assertThat(Files.readString(taken.file())).contains("pid=" + ProcessHandle.current().pid())
          .doesNotContain("pid=" + child.pid() + "\n");
    }
  }

  @Test
  void pidsAreReadFromTheFile() {
    assertThat(RunLock.pidOf("pid=123\nhost=h\n")).hasValue(123);
    assertThat(RunLock.pidOf("garbage")).isEmpty();
    assertThat(RunLock.pidOf("pid=x\n")).isEmpty();
  }
}
