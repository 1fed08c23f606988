package io.github.nablagfn.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.testing.TwinFixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SafetensorsTest {
  @TempDir Path dir;

  private static INDArray randomTensor(Rng rng, DataType type, long[] shape) {
    INDArray g = rng.gaussian(shape).muli(1e3);
    if (type == DataType.FLOAT) {
      return g;
    } else if (type == DataType.DOUBLE) {
      // use bits that float32 cannot hold, so a lossy path would be caught
      return g.castTo(DataType.DOUBLE).addi(1.0 / 3.0);
    } else if (type == DataType.INT64) {
      return g.castTo(DataType.DOUBLE).muli(1e12).castTo(DataType.INT64);
    }
    return g.castTo(DataType.INT32);
  }

  @Test
  void writeThenReadIsBitExactForRandomShapesAndDtypes() {
    DataType[] types = {DataType.FLOAT, DataType.DOUBLE, DataType.INT64, DataType.INT32};
    qt().withFixedSeed(7).withExamples(60)
        .forAll(longs().all(), integers().between(1, 5))
        .checkAssert((seed, count) -> {
          Rng rng = Rng.of(seed);
          Map<String, INDArray> tensors = new LinkedHashMap<>();
          for (int i = 0; i < count; i++) {
            int rank = rng.nextInt(5); // 0..4, rank 0 = scalar
            long[] shape = new long[rank];
            for (int d = 0; d < rank; d++) {
              shape[d] = 1 + rng.nextInt(6);
            }
            DataType type = types[rng.nextInt(types.length)];
            tensors.put("t" + i + ".w", randomTensor(rng, type, shape));
          }
          Map<String, String> meta = Map.of("seed", Long.toString(seed), "note", "round trip ✓");
          try {
            Path f = dir.resolve("rt-" + seed + ".safetensors");
            Safetensors.write(f, tensors, meta);
            Safetensors.Contents back = Safetensors.read(f);
            assertThat(back.metadata()).isEqualTo(meta);
            assertThat(back.tensors().keySet()).containsExactlyInAnyOrderElementsOf(tensors.keySet());
            for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
              INDArray b = back.get(e.getKey());
              assertThat(b.dataType()).isEqualTo(e.getValue().dataType());
              assertThat(b.shape()).isEqualTo(e.getValue().shape());
              assertThat(bytesOf(b)).isEqualTo(bytesOf(e.getValue()));
            }
            // Encoding is canonical: rewriting what was read gives the same bytes.
            assertThat(Safetensors.encode(back.tensors(), back.metadata())).isEqualTo(Files.readAllBytes(f));
          } catch (IOException ex) {
            throw new AssertionError(ex);
          }
        });
  }

  private static byte[] bytesOf(INDArray a) {
    return Safetensors.encode(Map.of("x", a), Map.of());
  }

  @Test
  void headerIsPaddedToEightBytesAndTensorsSortedByName() throws IOException {
    Map<String, INDArray> t = new LinkedHashMap<>();
    t.put("b", Nd4j.createFromArray(1f, 2f));
    t.put("a", Nd4j.createFromArray(3L));
    byte[] bytes = Safetensors.encode(t, Map.of());
    long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(n % 8).isZero();
    String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    assertThat(header).startsWith("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}");
    assertThat(header).contains("\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}");
    assertThat(bytes.length).isEqualTo(8 + n + 16);
  }

  @Test
  void readsTheTwinsFixtures() {
    Safetensors.Contents c = TwinFixtures.read("unet_forward.safetensors");
    assertThat(c.get("unet.x").shape()).containsExactly(4, 1, 32, 32);
    assertThat(c.get("unet.t").dataType()).isEqualTo(DataType.INT64);
    assertThat(c.get("unet.t").toLongVector()).containsExactly(981, 500, 21, 1);
    assertThat(c.get("unet.c").toLongVector()).containsExactly(3, 7, 0, 10);
    assertThat(c.metadata()).containsEntry("weights", "unet.safetensors");
  }

  @Test
  void readsHalfAndBfloat16AsFloat() throws IOException {
    // 1.0, -2.0, 65504 (max half), 2^-24 (smallest subnormal), +inf as F16; 1.0, -3.5 as BF16
    short[] half = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, 0x7C00};
    short[] bf = {0x3F80, (short) 0xC060};
    ByteBuffer data = ByteBuffer.allocate(14).order(ByteOrder.LITTLE_ENDIAN);
    for (short s : half) {
      data.putShort(s);
    }
    for (short s : bf) {
      data.putShort(s);
    }
    Path f = writeRaw("{\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[0,10]},"
        + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[10,14]}}", data.array());
    Safetensors.Contents c = Safetensors.read(f);
    assertThat(c.get("h").toFloatVector()).containsExactly(1f, -2f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY);
    assertThat(c.get("b").toFloatVector()).containsExactly(1f, -3.5f);
  }

  /** Names are exact: a header that is not UTF-8 and an empty tensor name are refused, read or written. */
  @Test
  void nonUtf8HeadersAndEmptyNamesAreRefusedNotRepaired() throws IOException {
    byte[] header = "{\"w?\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.US_ASCII);
    header[3] = (byte) 0xC3; // a UTF-8 lead byte followed by '"': malformed (the old reader made it U+FFFD)
    Path latin = writeRaw(header, new byte[4], -1);
    assertThatThrownBy(() -> Safetensors.read(latin)).isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("not valid UTF-8");
    Path empty = writeRaw("{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
    assertThatThrownBy(() -> Safetensors.read(empty)).isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("empty name");
    assertThatThrownBy(() -> Safetensors.encode(java.util.Map.of("", org.nd4j.linalg.factory.Nd4j.zeros(1)),
        java.util.Map.of())).hasMessageContaining("empty name");
    assertThatThrownBy(() -> Safetensors.encode(java.util.Map.of("a\uD800", org.nd4j.linalg.factory.Nd4j.zeros(1)),
        java.util.Map.of())).hasMessageContaining("not valid Unicode");
    // a valid non-ASCII name round-trips exactly
    Path ok = dir.resolve("unicode.safetensors");
    Safetensors.write(ok, java.util.Map.of("gewicht.ä.∇", org.nd4j.linalg.factory.Nd4j.ones(2)));
    assertThat(Safetensors.read(ok).tensors()).containsOnlyKeys("gewicht.ä.∇");
  }

  private Path writeRaw(String header, byte[] data) throws IOException {
    return writeRaw(header.getBytes(StandardCharsets.UTF_8), data, -1);
  }

  private Path writeRaw(byte[] header, byte[] data, long declaredLength) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(declaredLength >= 0 ? declaredLength : header.length).put(header).put(data);
    Path f = Files.createTempFile(dir, "bad", ".safetensors");
    Files.write(f, b.array());
    return f;
  }

  static Stream<Arguments> malformed() {
    String ok = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    return Stream.of(
        Arguments.of("not JSON", "{\"w\":", 8, "not valid JSON"),
        Arguments.of("JSON array", "[1,2]", 8, "not a JSON object"),
        Arguments.of("unknown dtype", ok.replace("F32", "F8_E4M3"), 8, "'w': unknown dtype 'F8_E4M3'"),
        Arguments.of("missing dtype", "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'w': missing or non-string dtype"),
        Arguments.of("negative dim", ok.replace("[2]", "[-2]"), 8, "'w': shape [-2]"),
        Arguments.of("overflowing shape", ok.replace("[2]", "[4294967296,4294967296,4]"), 8, "overflows 64 bits"),
        Arguments.of("size mismatch", ok.replace("[2]", "[3]"), 8, "'w': F32 shape [3] needs 12 bytes"),
        Arguments.of("offsets out of range", ok.replace("[0,8]", "[8,16]").replace("[2]", "[2]"), 16, "'w': data_offsets start at 8"),
        Arguments.of("offsets past data", ok, 4, "'w': data_offsets [0, 8] reach beyond the 4-byte data section"),
        Arguments.of("end before begin", ok.replace("[0,8]", "[8,0]"), 8, "'w': data_offsets [8, 0] are not"),
        Arguments.of("bad offsets", ok.replace("[0,8]", "[0]"), 8, "'w': data_offsets must be two integers"),
        Arguments.of("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlap"),
        Arguments.of("trailing bytes", ok, 12, "data section has 12 bytes but the tensors cover 8"),
        Arguments.of("duplicate name", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "Duplicate field 'w'"),
        Arguments.of("metadata not strings", "{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ value of 'k' is not a string"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void malformedHeadersAreRejectedWithTheirProblem(String what, String header, int dataBytes, String message)
      throws IOException {
    Path f = writeRaw(header, new byte[dataBytes]);
    assertThatThrownBy(() -> Safetensors.read(f))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining(message);
  }

  @Test
  void fileShorterThanLengthFieldIsRejected() throws IOException {
    Path f = dir.resolve("tiny.safetensors");
    Files.write(f, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> Safetensors.read(f)).isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("shorter than the 8-byte header length");
  }

  @Test
  void oversizedDeclaredHeaderIsRejectedWithoutAllocatingIt() throws IOException {
    Path f = writeRaw(new byte[16], new byte[0], Long.MAX_VALUE);
    assertThatThrownBy(() -> Safetensors.read(f)).isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("declared header length");
    Path g = writeRaw(new byte[16], new byte[0], 50_000_000);
    assertThatThrownBy(() -> Safetensors.read(g)).isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("truncated: header declares 50000000 bytes");
  }

  @Test
  void everyTruncationOfAValidFileIsRejected() throws IOException {
    Map<String, INDArray> t = new LinkedHashMap<>();
    t.put("a", Nd4j.createFromArray(1f, 2f, 3f));
    t.put("b", Nd4j.createFromArray(4.0, 5.0));
    byte[] full = Safetensors.encode(t, Map.of("k", "v"));
    for (int len = 0; len < full.length; len++) {
      Path f = dir.resolve("trunc" + len + ".safetensors");
      Files.write(f, Arrays.copyOf(full, len));
      assertThatThrownBy(() -> Safetensors.read(f)).as("truncated to %d of %d bytes", len, full.length)
          .isInstanceOf(SafetensorsException.class);
    }
  }

  /** Random bit flips and byte overwrites of a valid file: the reader either succeeds or throws our exception, nothing else. */
  @Test
  void mutatedFilesEitherReadOrFailWithASafetensorsException() throws IOException {
    Map<String, INDArray> t = new LinkedHashMap<>();
    t.put("a.weight", Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}}));
    t.put("b", Nd4j.createFromArray(5L, 6L));
    byte[] valid = Safetensors.encode(t, Map.of("k", "v"));
    Path f = dir.resolve("mutant.safetensors");
    qt().withFixedSeed(5).withExamples(Integer.getInteger("fuzz.cases", 1000))
        .forAll(longs().all())
        .checkAssert(seed -> {
          Rng rng = Rng.of(seed);
          byte[] b = valid.clone();
          int edits = 1 + rng.nextInt(4);
          for (int e = 0; e < edits; e++) {
            int pos = rng.nextInt(b.length);
            b[pos] = rng.nextInt(2) == 0 ? (byte) (b[pos] ^ (1 << rng.nextInt(8))) : (byte) rng.nextInt(256);
          }
          try {
            Files.write(f, b);
            Safetensors.read(f);
          } catch (SafetensorsException expected) {
            assertThat(expected.getMessage()).startsWith(f.toString());
          } catch (IOException other) {
            throw new AssertionError("unexpected " + other, other);
          }
        });
  }

  @Test
  void writerRejectsUnsupportedTypesNamingTheTensor() {
    assertThatThrownBy(() -> Safetensors.encode(Map.of("flags", Nd4j.createFromArray(true, false)), Map.of()))
        .hasMessageContaining("tensor 'flags'").hasMessageContaining("BOOL");
  }

  @Test
  void failedWriteLeavesThePreviousFileIntact() throws IOException {
    Path f = dir.resolve("keep.safetensors");
    Safetensors.write(f, Map.of("w", Nd4j.createFromArray(1f)));
    byte[] before = Files.readAllBytes(f);
    assertThatThrownBy(() -> Safetensors.write(f, Map.of("flags", Nd4j.createFromArray(true))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(Files.readAllBytes(f)).isEqualTo(before);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.filter(p -> p.getFileName().toString().endsWith(".tmp"))).isEmpty();
    }
  }
}
