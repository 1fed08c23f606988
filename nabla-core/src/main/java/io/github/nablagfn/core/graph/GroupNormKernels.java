package io.github.nablagfn.core.graph;

import io.github.nablagfn.core.runtime.NablaRuntime;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.ndarray.INDArray;

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
 * with M = (C/G)·H·W the elements of a group. Sigmoid and lane sums are {@link VectorKernels}': only exactly
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

  private static float[] floats(INDArray a) {
    return a.dup().data().asFloat();
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
    meanA.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(mean).reshape(l.batch(), l.groups()));
    rstdA.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(rstd).reshape(l.batch(), l.groups()));
  }

  static void backward(Layout l, INDArray xa, INDArray gammaA, INDArray betaA, INDArray meanA, INDArray rstdA,
      INDArray dya, INDArray dxa, INDArray dgammaA, INDArray dbetaA, boolean silu) {
    INDArray xd = dense(xa);
    INDArray dyd = dense(dya);
    ByteBuffer x = FastKernels.bytes(xd);
    ByteBuffer dy = FastKernels.bytes(dyd);
    ByteBuffer dx = FastKernels.bytes(dxa);
    float[] gamma = floats(gammaA);
    float[] beta = floats(betaA);
    float[] mean = floats(meanA);
    float[] rstd = floats(rstdA);
    float[][] a = new float[l.batch()][l.channels()];
    float[][] bsum = new float[l.batch()][l.channels()];
    parallelSamples(l.batch(), b -> backwardSample(l, b, x, dy, dx, gamma, beta, mean, rstd, a[b], bsum[b], silu));
    Reference.reachabilityFence(xd); // the buffer views do not keep a copy's native memory alive
    Reference.reachabilityFence(dyd);
    Reference.reachabilityFence(dxa);
    float[] dgamma = new float[l.channels()];
    float[] dbeta = new float[l.channels()];
    for (int b = 0; b < l.batch(); b++) { // fixed order: the same sums whatever the threads
      for (int c = 0; c < l.channels(); c++) {
        dbeta[c] += a[b][c];
        dgamma[c] += bsum[b][c];
      }
    }
    dgammaA.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(dgamma).reshape(dgammaA.shape()));
    dbetaA.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(dbeta).reshape(dbetaA.shape()));
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
      for (int g = 0; g < l.groups(); g++) {
        int off = base + g * cpg * l.positions();
        int len = cpg * l.positions();
        float mu = sum(x, off, len) / m;
        float r = (float) (1.0 / Math.sqrt(sumSquaredDeviation(x, off, len, mu) / m + eps));
        mean[g0 + g] = mu;
        rstd[g0 + g] = r;
        for (int c = g * cpg; c < (g + 1) * cpg; c++) {
          affine(x, y, base + c * l.positions(), l.positions(), mu, r * gamma[c], beta[c], silu);
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
    for (int p = 0; p < l.positions(); p++) {
      affineRow(x, y, base + p * cs, muC, scale, beta, silu);
    }
  }

  private static float sum(ByteBuffer x, int off, int len) {
    FloatVector acc = FloatVector.zero(S);
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      acc = acc.add(FloatVector.fromByteBuffer(S, x, (off + i) * 4, ORDER));
    }
    float s = VectorKernels.sumLanes(acc);
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
    float s = VectorKernels.sumLanes(acc);
    for (; i < len; i++) {
      float d = x.getFloat((off + i) * 4) - mu;
      s += d * d;
    }
    return s;
  }

  private static FloatVector silu(FloatVector v) {
    return v.mul(VectorKernels.sigmoid(v));
  }

  private static float silu(float v) {
    return v * VectorKernels.sigmoid(v);
  }

  private static void affine(ByteBuffer x, ByteBuffer y, int off, int len, float mu, float a, float beta,
      boolean silu) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector v = FloatVector.fromByteBuffer(S, x, (off + i) * 4, ORDER).sub(mu).mul(a).add(beta);
      (silu ? silu(v) : v).intoByteBuffer(y, (off + i) * 4, ORDER);
    }
    for (; i < len; i++) {
      float v = (x.getFloat((off + i) * 4) - mu) * a + beta;
      y.putFloat((off + i) * 4, silu ? silu(v) : v);
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

  private static void affineRow(ByteBuffer x, ByteBuffer y, int off, float[] mu, float[] scale, float[] beta,
      boolean silu) {
    int n = mu.length;
    int c = 0;
    for (int up = S.loopBound(n); c < up; c += L) {
      FloatVector v = FloatVector.fromByteBuffer(S, x, (off + c) * 4, ORDER).sub(FloatVector.fromArray(S, mu, c))
          .mul(FloatVector.fromArray(S, scale, c)).add(FloatVector.fromArray(S, beta, c));
      (silu ? silu(v) : v).intoByteBuffer(y, (off + c) * 4, ORDER);
    }
    for (; c < n; c++) {
      float v = (x.getFloat((off + c) * 4) - mu[c]) * scale[c] + beta[c];
      y.putFloat((off + c) * 4, silu ? silu(v) : v);
    }
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
    // 1. A_c = Σ d, B_c = Σ d·x̂
    if (!l.channelsLast()) {
      for (int c = 0; c < cs; c++) {
        float[] ab = channelSums(x, dy, base + c * l.positions(), l.positions(), muC[c], rC[c], gamma[c], beta[c],
            silu);
        a[c] = ab[0];
        bsum[c] = ab[1];
      }
    } else {
      for (int p = 0; p < l.positions(); p++) {
        rowSums(x, dy, base + p * cs, muC, rC, gamma, beta, a, bsum, silu);
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
        channelGradient(x, dy, dx, base + c * l.positions(), l.positions(), muC[c], rC[c], gamma[c], beta[c], m1[c],
            m2[c], silu);
      }
    } else {
      for (int p = 0; p < l.positions(); p++) {
        rowGradient(x, dy, dx, base + p * cs, muC, rC, gamma, beta, m1, m2, silu);
      }
    }
  }

  /** d = dL/dout · s(1 + y(1 − s)) for SiLU's output, or dL/dy itself. */
  private static FloatVector upstream(FloatVector dout, FloatVector y, boolean silu) {
    if (!silu) {
      return dout;
    }
    FloatVector s = VectorKernels.sigmoid(y);
    return dout.mul(s).mul(y.mul(s.neg().add(1f)).add(1f));
  }

  private static float upstream(float dout, float y, boolean silu) {
    if (!silu) {
      return dout;
    }
    float s = VectorKernels.sigmoid(y);
    return dout * s * (1f + y * (1f - s));
  }

  private static float[] channelSums(ByteBuffer x, ByteBuffer dy, int off, int len, float mu, float r, float gamma,
      float beta, boolean silu) {
    FloatVector accA = FloatVector.zero(S);
    FloatVector accB = FloatVector.zero(S);
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector xh = FloatVector.fromByteBuffer(S, x, (off + i) * 4, ORDER).sub(mu).mul(r);
      FloatVector d = upstream(FloatVector.fromByteBuffer(S, dy, (off + i) * 4, ORDER), xh.mul(gamma).add(beta), silu);
      accA = accA.add(d);
      accB = accB.add(d.mul(xh));
    }
    float sa = VectorKernels.sumLanes(accA);
    float sb = VectorKernels.sumLanes(accB);
    for (; i < len; i++) {
      float xh = (x.getFloat((off + i) * 4) - mu) * r;
      float d = upstream(dy.getFloat((off + i) * 4), xh * gamma + beta, silu);
      sa += d;
      sb += d * xh;
    }
    return new float[] {sa, sb};
  }

  private static void channelGradient(ByteBuffer x, ByteBuffer dy, ByteBuffer dx, int off, int len, float mu, float r,
      float gamma, float beta, float m1, float m2, boolean silu) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector xh = FloatVector.fromByteBuffer(S, x, (off + i) * 4, ORDER).sub(mu).mul(r);
      FloatVector d = upstream(FloatVector.fromByteBuffer(S, dy, (off + i) * 4, ORDER), xh.mul(gamma).add(beta), silu);
      d.mul(gamma).sub(m1).sub(xh.mul(m2)).mul(r).intoByteBuffer(dx, (off + i) * 4, ORDER);
    }
    for (; i < len; i++) {
      float xh = (x.getFloat((off + i) * 4) - mu) * r;
      float d = upstream(dy.getFloat((off + i) * 4), xh * gamma + beta, silu);
      dx.putFloat((off + i) * 4, (d * gamma - m1 - xh * m2) * r);
    }
  }

  private static void rowSums(ByteBuffer x, ByteBuffer dy, int off, float[] mu, float[] r, float[] gamma,
      float[] beta, float[] a, float[] bsum, boolean silu) {
    int n = mu.length;
    int c = 0;
    for (int up = S.loopBound(n); c < up; c += L) {
      FloatVector xh = FloatVector.fromByteBuffer(S, x, (off + c) * 4, ORDER).sub(FloatVector.fromArray(S, mu, c))
          .mul(FloatVector.fromArray(S, r, c));
      FloatVector y = xh.mul(FloatVector.fromArray(S, gamma, c)).add(FloatVector.fromArray(S, beta, c));
      FloatVector d = upstream(FloatVector.fromByteBuffer(S, dy, (off + c) * 4, ORDER), y, silu);
      FloatVector.fromArray(S, a, c).add(d).intoArray(a, c);
      FloatVector.fromArray(S, bsum, c).add(d.mul(xh)).intoArray(bsum, c);
    }
    for (; c < n; c++) {
      float xh = (x.getFloat((off + c) * 4) - mu[c]) * r[c];
      float d = upstream(dy.getFloat((off + c) * 4), xh * gamma[c] + beta[c], silu);
      a[c] += d;
      bsum[c] += d * xh;
    }
  }

  private static void rowGradient(ByteBuffer x, ByteBuffer dy, ByteBuffer dx, int off, float[] mu, float[] r,
      float[] gamma, float[] beta, float[] m1, float[] m2, boolean silu) {
    int n = mu.length;
    int c = 0;
    for (int up = S.loopBound(n); c < up; c += L) {
      FloatVector rv = FloatVector.fromArray(S, r, c);
      FloatVector g = FloatVector.fromArray(S, gamma, c);
      FloatVector xh = FloatVector.fromByteBuffer(S, x, (off + c) * 4, ORDER).sub(FloatVector.fromArray(S, mu, c))
          .mul(rv);
      FloatVector d = upstream(FloatVector.fromByteBuffer(S, dy, (off + c) * 4, ORDER),
          xh.mul(g).add(FloatVector.fromArray(S, beta, c)), silu);
      d.mul(g).sub(FloatVector.fromArray(S, m1, c)).sub(xh.mul(FloatVector.fromArray(S, m2, c))).mul(rv)
          .intoByteBuffer(dx, (off + c) * 4, ORDER);
    }
    for (; c < n; c++) {
      float xh = (x.getFloat((off + c) * 4) - mu[c]) * r[c];
      float d = upstream(dy.getFloat((off + c) * 4), xh * gamma[c] + beta[c], silu);
      dx.putFloat((off + c) * 4, (d * gamma[c] - m1[c] - xh * m2[c]) * r[c]);
    }
  }
}
