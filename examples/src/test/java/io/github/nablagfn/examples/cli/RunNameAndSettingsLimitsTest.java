package io.github.nablagfn.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.github.nablagfn.core.runtime.Rng;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Run names and settings files at their limits: 1000 generated names (separators, dots, control
 * characters, drive letters, long and non-ASCII names) either are refused naming the setting or stay one
 * directory inside the runs directory; a YAML alias bomb and 10 000-deep nesting fail fast with the
 * library's message naming the file.
 */
class RunNameAndSettingsLimitsTest {
  private static final int CASES = Integer.getInteger("fuzz.cases", 1000);
  private static final String[] PIECES = {"a", "Z", "0", "-", "_", ".", "..", "/", "\\", ":", "C:", "\u0000", "\n",
      "\u007f", "ü", "∇", " ", "~", "$HOME", "%s", "/etc/passwd", "\\\\server\\share", "x".repeat(100)};
  @TempDir Path dir;

  @Test
  void generatedRunNamesAreRefusedOrStayInsideTheRunsDirectory() {
    Path runs = dir.resolve("runs").toAbsolutePath().normalize();
    int accepted = 0;
    for (int i = 0; i < CASES; i++) {
      Rng rng = Rng.of(31_000 + i);
      StringBuilder b = new StringBuilder();
      for (int k = 1 + rng.nextInt(4); k > 0; k--) {
        b.append(PIECES[rng.nextInt(PIECES.length)]);
      }
      String name = b.toString();
      RunSettings s = new RunSettings();
      s.name = name;
      s.runsDir = runs.toString();
      boolean ok;
      try {
        s.validate();
        ok = true;
      } catch (IllegalArgumentException e) {
        assertThat(e.getMessage()).as("case %d refused naming the setting", i).startsWith("name = ");
        ok = false;
      }
      if (ok) {
        accepted++;
        Path run = runs.resolve(name).normalize();
        assertThat(run.getParent()).as("case %d '%s' stays one level inside", i, name).isEqualTo(runs);
        assertThat(run.getFileName().toString()).isEqualTo(name);
      }
    }
    assertThat(accepted).as("some generated names are fine").isPositive();
    for (String bad : new String[] {"..", ".", "a/..", "../x", "/abs", "C:evil", "a\\b", "a\u0000b", " ", "x".repeat(256)}) {
      RunSettings s = new RunSettings();
      s.name = bad;
      assertThatThrownBy(s::validate).as(bad).hasMessageStartingWith("name = ");
    }
    for (String good : new String[] {"run-1", "ünïcode ∇", "a.b", "...", "x".repeat(255)}) {
      RunSettings s = new RunSettings();
      s.name = good;
      s.validate();
    }
  }

  /** quickstart --config: the file's keys replace quickstart's defaults, the others stay quickstart's. */
  @Test
  void aSettingsFileIsReadOverTheSubcommandsOwnDefaults() throws Exception {
    RunSettings quick = new RunSettings();
    quick.beta = 30;
    quick.forwardCap = 5.0;
    quick.name = "quickstart";
    Path f = dir.resolve("run.yaml");
    Files.writeString(f, "iterations: 3\nname: mine\n");
    RunSettings s = RunSettings.read(f, quick);
    assertThat(s.iterations).isEqualTo(3);
    assertThat(s.name).isEqualTo("mine");
    assertThat(s.beta).as("quickstart's β kept").isEqualTo(30);
    assertThat(s.forwardCap).isEqualTo(5.0);
    assertThat(quick.iterations).as("the defaults are not changed").isEqualTo(new RunSettings().iterations);
  }

  @Test
  void aYamlAliasBombFailsFastNamingTheFile() throws Exception {
    StringBuilder y = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i <= 12; i++) { // 10^12 elements once expanded
      y.append("a").append(i).append(": &a").append(i).append(" [");
      for (int k = 0; k < 10; k++) {
        y.append(k == 0 ? "" : ", ").append("*a").append(i - 1);
      }
      y.append("]\n");
    }
    Path f = dir.resolve("bomb.yaml");
    Files.writeString(f, y);
    assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
        assertThatThrownBy(() -> RunSettings.read(f)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining(f.toString()));
  }

  @Test
  void tenThousandDeepNestingFailsFastNamingTheFile() throws Exception {
    Path json = dir.resolve("deep.json");
    Files.writeString(json, "{\"name\": " + "[".repeat(10_000) + "]".repeat(10_000) + "}");
    Path yaml = dir.resolve("deep.yaml");
    Files.writeString(yaml, "name: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n");
    for (Path f : new Path[] {json, yaml}) {
      assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
          assertThatThrownBy(() -> RunSettings.read(f)).isInstanceOf(IllegalArgumentException.class)
              .hasMessageContaining(f.toString()));
    }
  }
}
