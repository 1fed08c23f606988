package io.github.nablagfn.core.graph;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.runtime.NablaRuntime;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Java kernels give the same bits whatever the JIT has done with them, and whatever the thread count: a
 * child JVM limited to C1 ({@code -XX:TieredStopAtLevel=1}, where the Vector API runs its Java loops over the
 * lanes) on one thread computes every kernel on the same inputs as this JVM after C2 has compiled them (vector
 * instructions) on the configured threads, and the outputs' SHA-256 digests must be equal. Before the kernels
 * kept to exactly rounded operations, lanewise EXP and reduceLanes(ADD) made the first iterations of a process
 * differ from the later ones by an ulp, which a residual loss amplified to 1e-3 of a gradient.
 *
 * <p>Also: {@link VectorKernels#exp(float)} against {@link Math#exp} in double (a sweep of its whole range),
 * and the vector exp, sigmoid and the sigmoid kernels against the scalar ones bit for bit.
 */
class KernelJitStatesTest {
  private static final int WARM_UP = 3000;

  @BeforeAll
  static void init() {
    NablaRuntime.init();
  }

  /** Seeded inputs in float32 (java.util.Random: no native generator involved). */
  private static INDArray array(long seed, float scale, long... shape) {
    Random r = new Random(seed);
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian() * scale;
    }
    return Nd4j.createFromArray(v).reshape(shape);
  }

  private static String digest(INDArray... arrays) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (INDArray a : arrays) {
        ByteBuffer b = ByteBuffer.allocate((int) a.length() * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : a.dup().data().asFloat()) {
          b.putFloat(f);
        }
        md.update(b.array());
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every kernel once on fixed inputs, {@code repeats} times (the last run's outputs digested). */
  static Map<String, String> digests(int repeats) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int n : new int[] {1003, 70_001}) { // below and above the split threshold, with tails
      INDArray x = array(n, 8f, n);
      INDArray g = array(n + 1, 2f, n);
      INDArray y = x.ulike();
      INDArray dx = x.ulike();
      for (int i = 0; i < repeats; i++) {
        FastKernels.run("sigmoid", new INDArray[] {x}, new INDArray[] {y});
        FastKernels.run("sigmoid_bp", new INDArray[] {x, g}, new INDArray[] {dx});
      }
      out.put("sigmoid " + n, digest(y));
      out.put("sigmoid_bp " + n, digest(dx));
    }
    long[][] shapes = {{3, 6, 5, 7}, {2, 8, 8, 32}, {4, 16, 4, 4}};
    boolean[] channelsLast = {false, true, false};
    int[] groups = {3, 8, 4};
    for (int s = 0; s < shapes.length; s++) {
      for (boolean silu : new boolean[] {false, true}) {
        long[] shape = shapes[s];
        boolean cl = channelsLast[s];
        int c = (int) (cl ? shape[3] : shape[1]);
        INDArray x = array(10 + s, 2f, shape).addi(0.7);
        INDArray gamma = array(20 + s, 0.3f, c).addi(1);
        INDArray beta = array(30 + s, 0.3f, c);
        INDArray dy = array(40 + s, 1f, shape);
        GroupNormKernels.Layout l = GroupNormKernels.Layout.of(x, groups[s], cl);
        INDArray y = x.ulike();
        INDArray mean = Nd4j.create(DataType.FLOAT, shape[0], groups[s]);
        INDArray rstd = mean.ulike();
        INDArray dx = x.ulike();
        INDArray dgamma = gamma.ulike();
        INDArray dbeta = beta.ulike();
        for (int i = 0; i < repeats; i++) {
          GroupNormKernels.forward(l, x, gamma, beta, y, mean, rstd, 1e-5f, silu);
          GroupNormKernels.backward(l, x, gamma, beta, mean, rstd, dy, dx, dgamma, dbeta, silu);
        }
        String name = "group_norm" + (silu ? "_silu " : " ") + java.util.Arrays.toString(shape);
        out.put(name, digest(y, mean, rstd));
        out.put(name + " bp", digest(dx, dgamma, dbeta));
      }
    }
    return out;
  }

  /** The child JVM: prints "name=digest" lines after one run of each kernel. */
  public static void main(String[] args) {
    NablaRuntime.init();
    digests(1).forEach((k, v) -> System.out.println("DIGEST " + k + "=" + v));
  }

  @Test
  void aC1OnlyJvmOnOneThreadGivesTheBitsOfCompiledKernels(@TempDir Path dir) throws Exception {
    Map<String, String> compiled = digests(WARM_UP);
    Path log = dir.resolve("child.out");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules", "jdk.incubator.vector", "-XX:TieredStopAtLevel=1", "-D" + NablaRuntime.THREADS_PROPERTY + "=1"));
    // the same vector width as this JVM (the lane count orders the GroupNorm sums)
    java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("-XX:UseAVX") || a.startsWith("-XX:MaxVectorSize")).forEach(cmd::add);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), KernelJitStatesTest.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("the child JVM finishes").isTrue();
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as("the child JVM's exit code; its output:%n%s", text).isZero();
    Map<String, String> interpreted = new LinkedHashMap<>();
    text.lines().filter(s -> s.startsWith("DIGEST ")).forEach(s -> {
      int eq = s.lastIndexOf('=');
      interpreted.put(s.substring(7, eq), s.substring(eq + 1));
    });
    assertThat(interpreted).as("digests of the C1-only JVM against this one's compiled kernels")
        .isEqualTo(compiled);
  }

  @Test
  void expIsWithinTwoUlpOverItsRangeAndTheVectorOneIsTheScalarOne() {
    double worst = 0;
    int n = 2_000_001;
    float[] xs = new float[n];
    for (int i = 0; i < n; i++) {
      xs[i] = (float) (-87.0 + 175.0 * i / (n - 1));
      float e = VectorKernels.exp(xs[i]);
      double exact = Math.exp(xs[i]);
      worst = Math.max(worst, Math.abs(e - exact) / Math.ulp((float) exact));
    }
    assertThat(worst).as("largest error of exp in ulp over [-87, 88]").isLessThanOrEqualTo(2.0);
    float[] e = new float[n];
    VectorKernels.exp(xs, e, n); // vector lanes, and a scalar tail unless n is a multiple of the width
    for (int i = 0; i < n; i++) {
      if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(VectorKernels.exp(xs[i]))) {
        throw new AssertionError("vector exp(" + xs[i] + ") = " + e[i] + ", scalar " + VectorKernels.exp(xs[i]));
      }
    }
    float[] s = new float[n];
    VectorKernels.sigmoid(xs, s, n);
    for (int i = 0; i < n; i++) {
      if (Float.floatToRawIntBits(s[i]) != Float.floatToRawIntBits(VectorKernels.sigmoid(xs[i]))) {
        throw new AssertionError("vector sigmoid(" + xs[i] + ") = " + s[i] + ", scalar " + VectorKernels.sigmoid(xs[i]));
      }
    }
    // the buffer kernels compute e^x inline: the same bits as the scalar sigmoid and its gradient
    java.nio.ByteBuffer xb = java.nio.ByteBuffer.allocateDirect(n * 4).order(java.nio.ByteOrder.nativeOrder());
    java.nio.ByteBuffer gb = java.nio.ByteBuffer.allocateDirect(n * 4).order(java.nio.ByteOrder.nativeOrder());
    java.nio.ByteBuffer yb = java.nio.ByteBuffer.allocateDirect(n * 4).order(java.nio.ByteOrder.nativeOrder());
    java.nio.ByteBuffer db = java.nio.ByteBuffer.allocateDirect(n * 4).order(java.nio.ByteOrder.nativeOrder());
    for (int i = 0; i < n; i++) {
      xb.putFloat(i * 4, xs[i]);
      gb.putFloat(i * 4, 1f + xs[i] / 100f);
    }
    VectorKernels.sigmoid(xb, yb, 0, n);
    VectorKernels.sigmoidBackward(xb, gb, db, 0, n);
    for (int i = 0; i < n; i++) {
      float sv = VectorKernels.sigmoid(xs[i]);
      float dv = (1f + xs[i] / 100f) * sv * (1f - sv);
      if (Float.floatToRawIntBits(yb.getFloat(i * 4)) != Float.floatToRawIntBits(sv)
          || Float.floatToRawIntBits(db.getFloat(i * 4)) != Float.floatToRawIntBits(dv)) {
        throw new AssertionError("buffer kernels at x = " + xs[i] + ": sigmoid " + yb.getFloat(i * 4) + " / " + sv
            + ", gradient " + db.getFloat(i * 4) + " / " + dv);
      }
    }
    assertThat(VectorKernels.exp(-1000f)).as("clamped below").isEqualTo(VectorKernels.exp(-87f));
    assertThat(VectorKernels.exp(1000f)).as("clamped above").isEqualTo(VectorKernels.exp(88f)).isFinite();
  }
}
