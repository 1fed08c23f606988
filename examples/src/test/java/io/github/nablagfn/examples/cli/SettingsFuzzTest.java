package io.github.nablagfn.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.github.nablagfn.core.runtime.Rng;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of valid JSON and YAML run settings (byte flips, truncation, inserted characters):
 * every case reads (and then validates or names the bad field) or fails with an IllegalArgumentException
 * naming the file, within 2 s. Longer run: {@code -Dfuzz.cases=N}.
 */
class SettingsFuzzTest {
  private static final int CASES = Integer.getInteger("fuzz.cases", 1000);
  @TempDir Path dir;

  @Test
  void mutatedSettingsFilesReadOrFailNamingTheFile() throws Exception {
    String json = "{\"name\": \"r\", \"objective\": \"draft-k\", \"draftK\": 2, \"beta\": 50.0, \"batch\": 4,"
        + " \"reward\": \"aesthetic\", \"steps\": 20}";
    String yaml = "name: r\nobjective: draft-k\ndraftK: 2\nbeta: 50.0\nbatch: 4\nreward: aesthetic\nsteps: 20\n";
    for (int i = 0; i < CASES; i++) {
      Rng rng = Rng.of(500 + i);
      boolean isYaml = i % 2 == 1;
      byte[] b = (isYaml ? yaml : json).getBytes(StandardCharsets.UTF_8);
      switch (rng.nextInt(3)) {
        case 0 -> {
          for (int e = 1 + rng.nextInt(3); e > 0; e--) {
            int p = rng.nextInt(b.length);
            b[p] = (byte) (rng.nextInt(2) == 0 ? b[p] ^ (1 << rng.nextInt(8)) : rng.nextInt(128));
          }
        }
        case 1 -> b = java.util.Arrays.copyOf(b, rng.nextInt(b.length));
        default -> {
          int p = rng.nextInt(b.length);
          String s = new String(b, StandardCharsets.UTF_8);
          String ins = new String[] {"{", "}", "[", "]", ":", "\"", "\n  - ", "&a", "*a", "!!binary", "1e99999"}[rng.nextInt(11)];
          b = (s.substring(0, Math.min(p, s.length())) + ins + s.substring(Math.min(p, s.length())))
              .getBytes(StandardCharsets.UTF_8);
        }
      }
      Path f = dir.resolve("case" + i + (isYaml ? ".yaml" : ".json"));
      Files.write(f, b);
      assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
        try {
          RunSettings s = RunSettings.read(f);
          try {
            s.validate();
          } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).as("a bad value names its field").contains(" = ");
          }
        } catch (IllegalArgumentException e) {
          assertThat(e.getMessage()).as("names the file").contains(f.toString());
        }
      });
      Files.delete(f);
    }
  }
}
