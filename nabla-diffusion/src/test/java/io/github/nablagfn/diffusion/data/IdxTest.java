package io.github.nablagfn.diffusion.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class IdxTest {
  @TempDir Path dir;

  private static byte[] pixels(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 37);
    }
    return b;
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void writeThenReadRoundTrips(boolean gzip) throws IOException {
    Path f = dir.resolve("images.idx" + (gzip ? ".gz" : ""));
    byte[] data = pixels(3 * 4 * 5);
    Idx.write(f, new int[] {3, 4, 5}, data, gzip);
    Idx.UByteTensor t = Idx.read(f, 3);
    assertThat(t.dims()).containsExactly(3, 4, 5);
    assertThat(t.data()).isEqualTo(data);
  }

  @Test
  void modelInputIsPaddedAndScaledToMinusOneOne() throws IOException {
    Path f = dir.resolve("one.idx");
    byte[] data = new byte[28 * 28];
    data[0] = (byte) 255;
    data[1] = (byte) 0;
    data[2] = (byte) 128;
    Idx.write(f, new int[] {1, 28, 28}, data, false);
    INDArray x = Idx.toModelInput(Idx.read(f, 3), 2);
    assertThat(x.shape()).containsExactly(1, 1, 32, 32);
    assertThat(x.getFloat(0, 0, 0, 0)).isEqualTo(-1f);  // padding
    assertThat(x.getFloat(0, 0, 2, 2)).isEqualTo(1f);   // 255
    assertThat(x.getFloat(0, 0, 2, 3)).isEqualTo(-1f);  // 0
    assertThat(x.getFloat(0, 0, 2, 4)).isEqualTo(128 / 127.5f - 1f);
    assertThat(x.maxNumber().doubleValue()).isLessThanOrEqualTo(1.0);
    assertThat(x.minNumber().doubleValue()).isGreaterThanOrEqualTo(-1.0);
  }

  @Test
  void labelsBecomeInt64() throws IOException {
    Path f = dir.resolve("labels.idx");
    Idx.write(f, new int[] {4}, new byte[] {3, 0, 9, 7}, true);
    assertThat(Idx.toLabels(Idx.read(f, 1)).toLongVector()).containsExactly(3, 0, 9, 7);
  }

  private Path raw(String name, byte[] bytes) throws IOException {
    Path f = dir.resolve(name);
    Files.write(f, bytes);
    return f;
  }

  @Test
  void malformedFilesAreRejectedNamingTheFileAndProblem() throws IOException {
    Path good = dir.resolve("good.idx");
    Idx.write(good, new int[] {2, 3, 3}, pixels(18), false);
    byte[] valid = Files.readAllBytes(good);

    Path badMagic = raw("magic.idx", with(valid, 0, (byte) 1));
    assertThatThrownBy(() -> Idx.read(badMagic, 3)).isInstanceOf(IdxFormatException.class)
        .hasMessageContaining("magic.idx").hasMessageContaining("bad magic number");
    Path badType = raw("type.idx", with(valid, 2, (byte) 0x0D));
    assertThatThrownBy(() -> Idx.read(badType, 3)).hasMessageContaining("element type 0xd");
    assertThatThrownBy(() -> Idx.read(good, 1)).hasMessageContaining("rank 3; expected 1");
    Path zeroDim = raw("zero.idx", with(valid, 7, (byte) 0));
    assertThatThrownBy(() -> Idx.read(zeroDim, 3)).hasMessageContaining("dimension 0 is 0");
    Path huge = raw("huge.idx", with(with(valid, 4, (byte) 0x7f), 8, (byte) 0x7f));
    assertThatThrownBy(() -> Idx.read(huge, 3)).hasMessageContaining("exceed");
    for (int len : new int[] {0, 3, 6, 15, valid.length - 1}) {
      Path t = raw("trunc" + len + ".idx", Arrays.copyOf(valid, len));
      assertThatThrownBy(() -> Idx.read(t, 3)).as("truncated to %d bytes", len)
          .isInstanceOf(IdxFormatException.class).hasMessageContaining("trunc" + len + ".idx")
          .hasMessageContaining("truncated");
    }
    Path gz = dir.resolve("good.idx.gz");
    Idx.write(gz, new int[] {2, 3, 3}, pixels(18), true);
    byte[] z = Files.readAllBytes(gz);
    Path cutGz = raw("cut.idx.gz", Arrays.copyOf(z, z.length - 12));
    assertThatThrownBy(() -> Idx.read(cutGz, 3)).isInstanceOf(IdxFormatException.class)
        .hasMessageContaining("cut.idx.gz");
  }

  private static byte[] with(byte[] b, int i, byte v) {
    byte[] c = b.clone();
    c[i] = v;
    return c;
  }
}
