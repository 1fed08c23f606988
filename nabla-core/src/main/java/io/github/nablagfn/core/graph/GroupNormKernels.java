package io.github.nablagfn.core.graph;

import io.github.nablagfn.core.runtime.NablaRuntime;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The loops of {@link FusedGroupNorm}, per sample (samples run in parallel over {@code nabla.threads}), with the
 * Vector API along the contiguous axis: the spatial one for (B, C, H, W), the channel one for channels-last.
 * Statistics are two-pass (mean, then the mean of squared deviations), as the composition computes them.
 *
 * <pre>
 *   forward:  x̂ = (x − μ_g)·r_g, r_g = 1/√(σ²_g + ε);  y = x̂·γ_c + β_c;  with SiLU, out = y·s(y)
 *   backward: d = dL/dout · s(1 + y(1 − s)) with SiLU (else dL/dy);  A_c = Σ d,  B_c = Σ d·x̂  (per sample)
 *             dL/dβ_c = Σ_samples A_c,  dL/dγ_c = Σ_samples B_c
 *             dL/dx = r_g·(d·γ_c − m1_g − x̂·m2_g),  m1_g = Σ_{c∈g} γ_c A_c / M,  m2_g = Σ_{c∈g} γ_c B_c / M
 * </pre>
 * with M = (C/G)·H·W the elements of a group. The backward makes two passes over a sample: the first computes d
 * (SiLU's sigmoid once per element), sums A and B, and leaves d in dL/dx's memory; the second reads d back and
 * recomputes only x̂. Sigmoid and lane sums are {@link VectorKernels}': only exactly
 * rounded operations, so a process gives the same bits before and after the JIT compiles these loops.
 */
final class GroupNormKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  private GroupNormKernels() {}

  /** Batch B, channels C, spatial positions P = H·W, groups G and the layout. */
  record Layout(int batch, int channels, int positions, int groups, boolean channelsLast) {
    static Layout of(INDArray x, int groups, boolean channelsLast) {
      int b = (int) x.size(0);
      int c = (int) (channelsLast ? x.size(x.rank() - 1) : x.size(1));
      return new Layout(b, c, (int) (x.length() / ((long) b * c)), groups, channelsLast);
    }

    int perGroup() {
      return channels / groups;
    }

    int sampleElements() {
      return channels * positions;
    }
  }

  private static int threads() {
    return Math.max(1, Integer.getInteger(NablaRuntime.THREADS_PROPERTY, NablaRuntime.threads()));
  }

  /** The elements of a in C order: read from its buffer when it is dense float32 (no ND4J op), else copied. */
  private static float[] floats(INDArray a) {
    if (!FastKernels.dense(a)) {
      return a.dup('c').data().asFloat();
    }
    float[] v = new float[(int) a.length()];
    FastKernels.bytes(a).asFloatBuffer().get(v);
    Reference.reachabilityFence(a);
    return v;
  }

  /** a = v (C order): written to its buffer when it is dense float32 (no ND4J op), else assigned. */
  private static void write(INDArray a, float[] v) {
    if (!FastKernels.dense(a)) {
      a.assign(Nd4j.createFromArray(v).reshape('c', a.shape()));
      return;
    }
    FastKernels.bytes(a).asFloatBuffer().put(v);
    Reference.reachabilityFence(a);
  }

  static void forward(Layout l, INDArray xa, INDArray gammaA, INDArray betaA, INDArray ya, INDArray meanA,
      INDArray rstdA, float eps, boolean silu) {
    INDArray xd = dense(xa);
    ByteBuffer x = FastKernels.bytes(xd);
    ByteBuffer y = FastKernels.bytes(ya);
    float[] gamma = floats(gammaA);
    float[] beta = floats(betaA);
    float[] mean = new float[l.batch() * l.groups()];
    float[] rstd = new float[l.batch() * l.groups()];
    parallelSamples(l.batch(), b -> forwardSample(l, b, x, y, gamma, beta, mean, rstd, eps, silu));
    Reference.reachabilityFence(xd); // the buffer views do not keep a copy's native memory alive
    Reference.reachabilityFence(ya);
    write(meanA, mean);
    write(rstdA, rstd);
  }

  static void backward(Layout l, INDArray xa, INDArray gammaA, INDArray betaA, INDArray meanA, INDArray rstdA,
      INDArray dya, INDArray dxa, INDArray dgammaA, INDArray dbetaA, boolean silu) {
    INDArray xd = dense(xa);
    INDArray dyd = dense(dya);
    // the first pass leaves dL/dy in dx and the second reads it back beside x: dx needs its own dense memory
    INDArray dxd =
        FastKernels.dense(dxa) && !overlaps(dxa, xd) ? dxa : Nd4j.createUninitialized(DataType.FLOAT, dxa.shape(), 'c');
    ByteBuffer x = FastKernels.bytes(xd);
    ByteBuffer dy = FastKernels.bytes(dyd);
    ByteBuffer dx = FastKernels.bytes(dxd);
    float[] gamma = floats(gammaA);
    float[] beta = floats(betaA);
    float[] mean = floats(meanA);
    float[] rstd = floats(rstdA);
    float[][] a = new float[l.batch()][l.channels()];
    float[][] bsum = new float[l.batch()][l.channels()];
    parallelSamples(l.batch(), b -> backwardSample(l, b, x, dy, dx, gamma, beta, mean, rstd, a[b], bsum[b], silu));
    Reference.reachabilityFence(xd); // the buffer views do not keep a copy's native memory alive
    Reference.reachabilityFence(dyd);
    Reference.reachabilityFence(dxd);
    if (dxd != dxa) {
      dxa.assign(dxd);
    }
    float[] dgamma = new float[l.channels()];
    float[] dbeta = new float[l.channels()];
    for (int b = 0; b < l.batch(); b++) { // fixed order: the same sums whatever the threads
      for (int c = 0; c < l.channels(); c++) {
        dbeta[c] += a[b][c];
        dgamma[c] += bsum[b][c];
      }
    }
    write(dgammaA, dgamma);
    write(dbetaA, dbeta);
  }

  /** Whether the elements of a and b (both dense) share memory. */
  private static boolean overlaps(INDArray a, INDArray b) {
    long a0 = a.data().address() + a.offset() * 4L;
    long b0 = b.data().address() + b.offset() * 4L;
    return a0 < b0 + b.length() * 4L && b0 < a0 + a.length() * 4L;
  }

  private static INDArray dense(INDArray a) {
    return FastKernels.dense(a) ? a : a.dup('c');
  }

  private interface Sample {
    void run(int b);
  }

  private static void parallelSamples(int batch, Sample body) {
    FastKernels.parallel(batch, Math.min(threads(), batch), (from, to) -> {
      for (int b = from; b < to; b++) {
        body.run(b);
      }
    }, 2, 1);
  }

  // ---- forward

  private static void forwardSample(Layout l, int b, ByteBuffer x, ByteBuffer y, float[] gamma, float[] beta,
      float[] mean, float[] rstd, float eps, boolean silu) {
    int base = b * l.sampleElements();
    int g0 = b * l.groups();
    int cpg = l.perGroup();
    float m = (float) cpg * l.positions();
    if (!l.channelsLast()) {
      float[] v = new float[VectorKernels.CHUNK];
      float[] sg = new float[VectorKernels.CHUNK];
      for (int g = 0; g < l.groups(); g++) {
        int off = base + g * cpg * l.positions();
        int len = cpg * l.positions();
        float mu = sum(x, off, len) / m;
        float r = (float) (1.0 / Math.sqrt(sumSquaredDeviation(x, off, len, mu) / m + eps));
        mean[g0 + g] = mu;
        rstd[g0 + g] = r;
        for (int c = g * cpg; c < (g + 1) * cpg; c++) {
          affine(x, y, base + c * l.positions(), l.positions(), mu, r * gamma[c], beta[c], silu, v, sg);
        }
      }
      return;
    }
    int cs = l.channels();
    float[] acc = new float[cs];
    for (int p = 0; p < l.positions(); p++) {
      addRow(x, base + p * cs, acc, null);
    }
    float[] muC = new float[cs];
    for (int g = 0; g < l.groups(); g++) {
      float s = 0;
      for (int c = g * cpg; c < (g + 1) * cpg; c++) {
        s += acc[c];
      }
      mean[g0 + g] = s / m;
      java.util.Arrays.fill(muC, g * cpg, (g + 1) * cpg, s / m);
    }
    java.util.Arrays.fill(acc, 0);
    for (int p = 0; p < l.positions(); p++) {
      addRow(x, base + p * cs, acc, muC);
    }
    float[] scale = new float[cs];
    for (int g = 0; g < l.groups(); g++) {
      float s = 0;
      for (int c = g * cpg; c < (g + 1) * cpg; c++) {
        s += acc[c];
      }
      float r = (float) (1.0 / Math.sqrt(s / m + eps));
      rstd[g0 + g] = r;
      for (int c = g * cpg; c < (g + 1) * cpg; c++) {
        scale[c] = r * gamma[c];
      }
    }
    float[] v = new float[cs];
    float[] sg = new float[cs];
    for (int p = 0; p < l.positions(); p++) {
      affineRow(x, y, base + p * cs, muC, scale, beta, silu, v, sg);
    }
  }

  private static float sum(ByteBuffer x, int off, int len) {
    FloatVector acc = FloatVector.zero(S);
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      acc = acc.add(FloatVector.fromByteBuffer(S, x, (off + i) * 4, ORDER));
    }
    float[] lanes = new float[L];
    acc.intoArray(lanes, 0);
    float s = VectorKernels.sumLanes(lanes);
    for (; i < len; i++) {
      s += x.getFloat((off + i) * 4);
    }
    return s;
  }

  private static float sumSquaredDeviation(ByteBuffer x, int off, int len, float mu) {
    FloatVector acc = FloatVector.zero(S);
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector d = FloatVector.fromByteBuffer(S, x, (off + i) * 4, ORDER).sub(mu);
      acc = acc.add(d.mul(d));
    }
    float[] lanes = new float[L];
    acc.intoArray(lanes, 0);
    float s = VectorKernels.sumLanes(lanes);
    for (; i < len; i++) {
      float d = x.getFloat((off + i) * 4) - mu;
      s += d * d;
    }
    return s;
  }

  /** Elements [off, off + n) of y = v·s(v) with SiLU (s: scratch), else v. */
  private static void storeActivated(float[] v, float[] s, ByteBuffer y, int off, int n, boolean silu) {
    if (!silu) {
      VectorKernels.store(v, y, off, n);
      return;
    }
    VectorKernels.sigmoid(v, s, n);
    int i = 0;
    for (int up = S.loopBound(n); i < up; i += L) {
      FloatVector.fromArray(S, v, i).mul(FloatVector.fromArray(S, s, i)).intoByteBuffer(y, (off + i) * 4, ORDER);
    }
    for (; i < n; i++) {
      y.putFloat((off + i) * 4, v[i] * s[i]);
    }
  }

  /** One channel (NCHW): y = (x − mu)·a + beta, then SiLU; v, s: scratch of {@link VectorKernels#CHUNK}. */
  private static void affine(ByteBuffer x, ByteBuffer y, int off, int len, float mu, float a, float beta,
      boolean silu, float[] v, float[] s) {
    for (int c0 = 0; c0 < len; c0 += VectorKernels.CHUNK) {
      int n = Math.min(VectorKernels.CHUNK, len - c0);
      int o = off + c0;
      int i = 0;
      for (int up = S.loopBound(n); i < up; i += L) {
        FloatVector.fromByteBuffer(S, x, (o + i) * 4, ORDER).sub(mu).mul(a).add(beta).intoArray(v, i);
      }
      for (; i < n; i++) {
        v[i] = (x.getFloat((o + i) * 4) - mu) * a + beta;
      }
      storeActivated(v, s, y, o, n, silu);
    }
  }

  /** acc[c] += x[c] (or (x[c] − mu[c])² with mu) over one row of channels. */
  private static void addRow(ByteBuffer x, int off, float[] acc, float[] mu) {
    int n = acc.length;
    int c = 0;
    for (int up = S.loopBound(n); c < up; c += L) {
      FloatVector v = FloatVector.fromByteBuffer(S, x, (off + c) * 4, ORDER);
      if (mu != null) {
        v = v.sub(FloatVector.fromArray(S, mu, c));
        v = v.mul(v);
      }
      FloatVector.fromArray(S, acc, c).add(v).intoArray(acc, c);
    }
    for (; c < n; c++) {
      float v = x.getFloat((off + c) * 4);
      if (mu != null) {
        v = (v - mu[c]) * (v - mu[c]);
      }
      acc[c] += v;
    }
  }

  /** One row of channels (channels-last): y = (x − mu)·scale + beta per channel, then SiLU; v, s: scratch. */
  private static void affineRow(ByteBuffer x, ByteBuffer y, int off, float[] mu, float[] scale, float[] beta,
      boolean silu, float[] v, float[] s) {
    int n = mu.length;
    int c = 0;
    for (int up = S.loopBound(n); c < up; c += L) {
      FloatVector.fromByteBuffer(S, x, (off + c) * 4, ORDER).sub(FloatVector.fromArray(S, mu, c))
          .mul(FloatVector.fromArray(S, scale, c)).add(FloatVector.fromArray(S, beta, c)).intoArray(v, c);
    }
    for (; c < n; c++) {
      v[c] = (x.getFloat((off + c) * 4) - mu[c]) * scale[c] + beta[c];
    }
    storeActivated(v, s, y, off, n, silu);
  }

  // ---- backward

  private static void backwardSample(Layout l, int b, ByteBuffer x, ByteBuffer dy, ByteBuffer dx, float[] gamma,
      float[] beta, float[] mean, float[] rstd, float[] a, float[] bsum, boolean silu) {
    int base = b * l.sampleElements();
    int g0 = b * l.groups();
    int cpg = l.perGroup();
    int cs = l.channels();
    float m = (float) cpg * l.positions();
    float[] muC = new float[cs];
    float[] rC = new float[cs];
    for (int c = 0; c < cs; c++) {
      muC[c] = mean[g0 + c / cpg];
      rC[c] = rstd[g0 + c / cpg];
    }
    // scratch: x̂, d and a third array, a chunk of a channel (NCHW) or a row of channels (channels-last)
    int scratch = l.channelsLast() ? cs : VectorKernels.CHUNK;
    float[] xh = new float[scratch];
    float[] d = new float[scratch];
    float[] t = new float[scratch];
    // 1. A_c = Σ d, B_c = Σ d·x̂
    if (!l.channelsLast()) {
      for (int c = 0; c < cs; c++) {
        float[] ab = channelSums(x, dy, dx, base + c * l.positions(), l.positions(), muC[c], rC[c], gamma[c],
            beta[c], silu, xh, d, t);
        a[c] = ab[0];
        bsum[c] = ab[1];
      }
    } else {
      for (int p = 0; p < l.positions(); p++) {
        rowSums(x, dy, dx, base + p * cs, muC, rC, gamma, beta, a, bsum, silu, xh, d, t);
      }
    }
    // 2. per group m1, m2; then dL/dx
    float[] m1 = new float[cs];
    float[] m2 = new float[cs];
    for (int g = 0; g < l.groups(); g++) {
      float s1 = 0;
      float s2 = 0;
      for (int c = g * cpg; c < (g + 1) * cpg; c++) {
        s1 += gamma[c] * a[c];
        s2 += gamma[c] * bsum[c];
      }
      java.util.Arrays.fill(m1, g * cpg, (g + 1) * cpg, s1 / m);
      java.util.Arrays.fill(m2, g * cpg, (g + 1) * cpg, s2 / m);
    }
    if (!l.channelsLast()) {
      for (int c = 0; c < cs; c++) {
        channelGradient(x, dx, base + c * l.positions(), l.positions(), muC[c], rC[c], gamma[c], m1[c], m2[c], xh, d);
      }
    } else {
      for (int p = 0; p < l.positions(); p++) {
        rowGradient(x, dx, base + p * cs, muC, rC, gamma, m1, m2, xh, d);
      }
    }
  }

  /**
   * d[i] = dL/dout · s(1 + y(1 − s)) for SiLU's output at y = t[i] (s = s(y)), or dL/dy itself, for elements
   * [off, off + n) of dy; t holds y on entry.
   */
  private static void upstream(ByteBuffer dy, int off, int n, float[] t, float[] d, boolean silu) {
    if (!silu) {
      VectorKernels.load(dy, off, d, n);
      return;
    }
    VectorKernels.sigmoid(t, d, n);
    int i = 0;
    for (int up = S.loopBound(n); i < up; i += L) {
      FloatVector sv = FloatVector.fromArray(S, d, i);
      FloatVector y = FloatVector.fromArray(S, t, i);
      FloatVector.fromByteBuffer(S, dy, (off + i) * 4, ORDER).mul(sv).mul(y.mul(sv.neg().add(1f)).add(1f))
          .intoArray(d, i);
    }
    for (; i < n; i++) {
      float sv = d[i];
      d[i] = dy.getFloat((off + i) * 4) * sv * (1f + t[i] * (1f - sv));
    }
  }

  /** xh[i] = x̂ = (x[off + i] − mu)·r for i < n: one chunk of a channel (NCHW). */
  private static void normalize(ByteBuffer x, int off, int n, float mu, float r, float[] xh) {
    int i = 0;
    for (int up = S.loopBound(n); i < up; i += L) {
      FloatVector.fromByteBuffer(S, x, (off + i) * 4, ORDER).sub(mu).mul(r).intoArray(xh, i);
    }
    for (; i < n; i++) {
      xh[i] = (x.getFloat((off + i) * 4) - mu) * r;
    }
  }

  /** xh[c] = x̂ = (x[off + c] − mu[c])·r[c] over one row of channels (channels-last). */
  private static void normalizeRow(ByteBuffer x, int off, float[] mu, float[] r, float[] xh) {
    int n = mu.length;
    int c = 0;
    for (int up = S.loopBound(n); c < up; c += L) {
      FloatVector.fromByteBuffer(S, x, (off + c) * 4, ORDER).sub(FloatVector.fromArray(S, mu, c))
          .mul(FloatVector.fromArray(S, r, c)).intoArray(xh, c);
    }
    for (; c < n; c++) {
      xh[c] = (x.getFloat((off + c) * 4) - mu[c]) * r[c];
    }
  }

  /** One chunk of a channel (NCHW): xh = x̂, t = y = x̂·gamma + beta, d = the upstream gradient. */
  private static void chunk(ByteBuffer x, ByteBuffer dy, int off, int n, float mu, float r, float gamma, float beta,
      boolean silu, float[] xh, float[] d, float[] t) {
    normalize(x, off, n, mu, r, xh);
    int i = 0;
    for (int up = S.loopBound(n); i < up; i += L) {
      FloatVector.fromArray(S, xh, i).mul(gamma).add(beta).intoArray(t, i);
    }
    for (; i < n; i++) {
      t[i] = xh[i] * gamma + beta;
    }
    upstream(dy, off, n, t, d, silu);
  }

  /** One row of channels (channels-last): xh, t = y and d as {@link #chunk}, per channel. */
  private static void row(ByteBuffer x, ByteBuffer dy, int off, float[] mu, float[] r, float[] gamma, float[] beta,
      boolean silu, float[] xh, float[] d, float[] t) {
    normalizeRow(x, off, mu, r, xh);
    int n = mu.length;
    int c = 0;
    for (int up = S.loopBound(n); c < up; c += L) {
      FloatVector.fromArray(S, xh, c).mul(FloatVector.fromArray(S, gamma, c)).add(FloatVector.fromArray(S, beta, c))
          .intoArray(t, c);
    }
    for (; c < n; c++) {
      t[c] = xh[c] * gamma[c] + beta[c];
    }
    upstream(dy, off, n, t, d, silu);
  }

  /** A_c and B_c of one channel (NCHW); the upstream gradient d goes to dx, where {@link #channelGradient} reads it. */
  private static float[] channelSums(ByteBuffer x, ByteBuffer dy, ByteBuffer dx, int off, int len, float mu, float r,
      float gamma, float beta, boolean silu, float[] xh, float[] d, float[] t) {
    FloatVector accA = FloatVector.zero(S);
    FloatVector accB = FloatVector.zero(S);
    float tailA = 0;
    float tailB = 0;
    for (int c0 = 0; c0 < len; c0 += VectorKernels.CHUNK) {
      int n = Math.min(VectorKernels.CHUNK, len - c0);
      chunk(x, dy, off + c0, n, mu, r, gamma, beta, silu, xh, d, t);
      VectorKernels.store(d, dx, off + c0, n);
      int i = 0;
      for (int up = S.loopBound(n); i < up; i += L) {
        FloatVector dv = FloatVector.fromArray(S, d, i);
        accA = accA.add(dv);
        accB = accB.add(dv.mul(FloatVector.fromArray(S, xh, i)));
      }
      for (; i < n; i++) { // only the last chunk has a tail (CHUNK is a multiple of every vector width)
        tailA += d[i];
        tailB += d[i] * xh[i];
      }
    }
    float[] lanes = new float[L];
    accA.intoArray(lanes, 0);
    float sa = VectorKernels.sumLanes(lanes) + tailA;
    accB.intoArray(lanes, 0);
    float sb = VectorKernels.sumLanes(lanes) + tailB;
    return new float[] {sa, sb};
  }

  /** dL/dx of one channel (NCHW) from d, which {@link #channelSums} left in dx, and x̂ recomputed. */
  private static void channelGradient(ByteBuffer x, ByteBuffer dx, int off, int len, float mu, float r, float gamma,
      float m1, float m2, float[] xh, float[] d) {
    for (int c0 = 0; c0 < len; c0 += VectorKernels.CHUNK) {
      int n = Math.min(VectorKernels.CHUNK, len - c0);
      int o = off + c0;
      VectorKernels.load(dx, o, d, n);
      normalize(x, o, n, mu, r, xh);
      int i = 0;
      for (int up = S.loopBound(n); i < up; i += L) {
        FloatVector.fromArray(S, d, i).mul(gamma).sub(m1).sub(FloatVector.fromArray(S, xh, i).mul(m2)).mul(r)
            .intoByteBuffer(dx, (o + i) * 4, ORDER);
      }
      for (; i < n; i++) {
        dx.putFloat((o + i) * 4, (d[i] * gamma - m1 - xh[i] * m2) * r);
      }
    }
  }

  /** A_c and B_c over one row of channels (channels-last); the upstream gradient d goes to dx. */
  private static void rowSums(ByteBuffer x, ByteBuffer dy, ByteBuffer dx, int off, float[] mu, float[] r,
      float[] gamma, float[] beta, float[] a, float[] bsum, boolean silu, float[] xh, float[] d, float[] t) {
    row(x, dy, off, mu, r, gamma, beta, silu, xh, d, t);
    int n = mu.length;
    VectorKernels.store(d, dx, off, n);
    int c = 0;
    for (int up = S.loopBound(n); c < up; c += L) {
      FloatVector dv = FloatVector.fromArray(S, d, c);
      FloatVector.fromArray(S, a, c).add(dv).intoArray(a, c);
      FloatVector.fromArray(S, bsum, c).add(dv.mul(FloatVector.fromArray(S, xh, c))).intoArray(bsum, c);
    }
    for (; c < n; c++) {
      a[c] += d[c];
      bsum[c] += d[c] * xh[c];
    }
  }

  /** dL/dx over one row of channels (channels-last) from d, which {@link #rowSums} left in dx, and x̂ recomputed. */
  private static void rowGradient(ByteBuffer x, ByteBuffer dx, int off, float[] mu, float[] r, float[] gamma,
      float[] m1, float[] m2, float[] xh, float[] d) {
    int n = mu.length;
    VectorKernels.load(dx, off, d, n);
    normalizeRow(x, off, mu, r, xh);
    int c = 0;
    for (int up = S.loopBound(n); c < up; c += L) {
      FloatVector.fromArray(S, d, c).mul(FloatVector.fromArray(S, gamma, c)).sub(FloatVector.fromArray(S, m1, c))
          .sub(FloatVector.fromArray(S, xh, c).mul(FloatVector.fromArray(S, m2, c)))
          .mul(FloatVector.fromArray(S, r, c)).intoByteBuffer(dx, (off + c) * 4, ORDER);
    }
    for (; c < n; c++) {
      dx.putFloat((off + c) * 4, (d[c] * gamma[c] - m1[c] - xh[c] * m2[c]) * r[c]);
    }
  }
}
