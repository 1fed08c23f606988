package io.github.nablagfn.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.diffusion.data.Idx;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inputs that declare more than memory holds fail fast with the library's own exception, in a JVM limited to
 * -Xmx256m: a small gzip IDX file that inflates towards 2 GB and declares [2.7M, 28, 28], a 3 GB sparse
 * safetensors file (one 3 GB tensor; and two of 1.5 GB), and a header declaring 100 GB in a small file.
 */
class BoundedMemoryTest {
  @TempDir Path dir;

  /** The child: reads each file and prints "name: exception class: message" (or "name: LOADED"). */
  public static void main(String[] args) {
    for (String f : args) {
      Path p = Path.of(f);
      String outcome;
      try {
        if (f.endsWith(".gz")) {
          Idx.read(p, 3);
        } else {
          Safetensors.read(p);
        }
        outcome = "LOADED";
      } catch (Throwable t) {
        outcome = t.getClass().getName() + ": " + t.getMessage();
      }
      System.out.println(p.getFileName() + ": " + outcome.replace('\n', ' '));
    }
  }

  /** A safetensors file whose data section is a hole of {@code bytes} (sparse: no disk blocks). */
  private static void sparseSafetensors(Path file, String header, long dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
      raf.write(h);
      raf.setLength(8L + h.length + dataBytes);
    }
  }

  @Test
  void oversizedInputsFailFastWithTheLibrarysExceptionUnderASmallHeap() throws Exception {
    Path bomb = dir.resolve("bomb-idx3-ubyte.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(bomb), 1 << 16)) {
      out.write(new byte[] {0, 0, 8, 3});
      for (int d : new int[] {2_700_000, 28, 28}) {
        out.write(ByteBuffer.allocate(4).putInt(d).array());
      }
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 300; i++) { // 300 MB of zeros, more than the child's whole heap
        out.write(zeros);
      }
    }
    assertThat(Files.size(bomb)).as("a small file").isLessThan(2_000_000);
    long threeGb = 3L << 30;
    Path big = dir.resolve("three-gb.safetensors");
    sparseSafetensors(big, "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + threeGb / 4 + "],\"data_offsets\":[0," + threeGb + "]}}",
        threeGb);
    Path halves = dir.resolve("two-halves.safetensors");
    long half = threeGb / 2;
    sparseSafetensors(halves, "{\"a\":{\"dtype\":\"F32\",\"shape\":[" + half / 4 + "],\"data_offsets\":[0," + half + "]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[" + half / 4 + "],\"data_offsets\":[" + half + "," + threeGb + "]}}", threeGb);
    Path declares = dir.resolve("declares-100gb.safetensors");
    long hundredGb = 100L << 30;
    sparseSafetensors(declares, "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + hundredGb / 4 + "],\"data_offsets\":[0,"
        + hundredGb + "]}}", 64);

    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-cp", System.getProperty("java.class.path"), BoundedMemoryTest.class.getName()));
    for (Path p : List.of(bomb, big, halves, declares)) {
      cmd.add(p.toString());
    }
    Path log = dir.resolve("child.log");
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("fails fast (log %s)", log).isTrue();
    String out = Files.readString(log);
    assertThat(child.exitValue()).as(out).isZero();
    assertThat(out).doesNotContain("OutOfMemoryError").doesNotContain("LOADED");
    assertThat(line(out, "bomb-idx3-ubyte.gz")).contains("IdxFormatException").contains("[2700000, 28, 28]")
        .contains("maximum heap");
    assertThat(line(out, "three-gb.safetensors")).contains("SafetensorsException")
        .contains("tensors above 2 GB are not supported");
    assertThat(line(out, "two-halves.safetensors")).contains("SafetensorsException").contains("maximum heap");
    assertThat(line(out, "declares-100gb.safetensors")).contains("SafetensorsException").contains("26843545600 elements exceed");
  }

  private static String line(String out, String name) {
    return out.lines().filter(l -> l.startsWith(name + ":")).findFirst().orElse("(no line for " + name + " in: " + out + ")");
  }
}
