package io.github.nablagfn.diffusion.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.github.nablagfn.core.runtime.Rng;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of valid IDX files (raw and gzip): bit flips, byte overwrites, huge or negative
 * dimensions, truncation at every header boundary and elsewhere. Every case reads or fails with an
 * {@link IdxFormatException} naming the file, within 2 s, without an OutOfMemoryError. Longer run:
 * {@code -Dfuzz.cases=N}.
 */
class IdxFuzzTest {
  private static final int CASES = Integer.getInteger("fuzz.cases", 1500);
  @TempDir Path dir;

  private void check(Path f) {
    assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
      try {
        Idx.UByteTensor t = Idx.read(f, 3);
        assertThat(t.data().length).isEqualTo(Arrays.stream(t.dims()).asLongStream().reduce(1, (a, b) -> a * b));
      } catch (IdxFormatException e) {
        assertThat(e.getMessage()).as("the message names the file").contains(f.getFileName().toString());
      } catch (IOException e) {
        throw new AssertionError("not our exception: " + e, e);
      }
    });
  }

  @Test
  void mutatedFilesReadOrFailWithOurException() throws IOException {
    Path good = dir.resolve("good.idx");
    byte[] pixels = new byte[3 * 5 * 4];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) i;
    }
    Idx.write(good, new int[] {3, 5, 4}, pixels, false);
    Path goodGz = dir.resolve("good.idx.gz");
    Idx.write(goodGz, new int[] {3, 5, 4}, pixels, true);
    byte[][] valid = {Files.readAllBytes(good), Files.readAllBytes(goodGz)};
    for (int i = 0; i < CASES; i++) {
      Rng rng = Rng.of(1000 + i);
      boolean gz = i % 3 == 2;
      byte[] b = valid[gz ? 1 : 0].clone();
      switch (rng.nextInt(4)) {
        case 0 -> { // bit flips anywhere
          for (int e = 1 + rng.nextInt(3); e > 0; e--) {
            int p = rng.nextInt(b.length);
            b[p] ^= (byte) (1 << rng.nextInt(8));
          }
        }
        case 1 -> { // a header dimension set to a huge, negative or zero value
          if (!gz) {
            int dim = rng.nextInt(3);
            int v = new int[] {Integer.MAX_VALUE, -1, 0, 1 << 20, Integer.MIN_VALUE}[rng.nextInt(5)];
            for (int k = 0; k < 4; k++) {
              b[4 + 4 * dim + k] = (byte) (v >>> (24 - 8 * k));
            }
          }
        }
        case 2 -> b = Arrays.copyOf(b, rng.nextInt(b.length)); // truncation
        default -> { // random overwrite of the header
          int p = rng.nextInt(Math.min(16, b.length));
          b[p] = (byte) rng.nextInt(256);
        }
      }
      Path f = dir.resolve("case" + i + (gz ? ".idx.gz" : ".idx"));
      Files.write(f, b);
      check(f);
      Files.delete(f);
    }
  }

  @Test
  void everyTruncationOfTheHeaderFails() throws IOException {
    Path good = dir.resolve("small.idx");
    Idx.write(good, new int[] {2, 2, 2}, new byte[8], false);
    byte[] valid = Files.readAllBytes(good);
    for (int len = 0; len < valid.length; len++) {
      Path f = dir.resolve("cut" + len + ".idx");
      Files.write(f, Arrays.copyOf(valid, len));
      int l = len;
      assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
        try {
          Idx.read(f, 3);
          throw new AssertionError("truncated to " + l + " bytes but read");
        } catch (IdxFormatException e) {
          assertThat(e.getMessage()).contains("cut" + l + ".idx");
        }
      });
    }
  }
}
