package io.github.nablagfn.core.graph;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The convolution tests' reference: cases, seeded inputs, the exact gradients of a stride-1 channels-last
 * convolution (double-precision loops over its definition, with Σ|terms| per element) and the share of the
 * float32 bound γ_n·Σ|terms| (Higham, §3.1; γ_n = n·u/(1 − n·u), u = 2⁻²⁴) a result uses.
 */
final class ConvReference {
  private static final double U = Math.pow(2, -24);

  private ConvReference() {}

  /** One convolution x (B, H, W, Ci) → y (B, Ho, Wo, Co): sizes, kernel, padding, same mode, bias. */
  record Case(int b, int h, int w, int ci, int co, int kh, int kw, int ph, int pw, boolean same, boolean bias) {
    long[] iArgs() {
      return new long[] {kh, kw, 1, 1, ph, pw, 1, 1, same ? 1 : 0, 1, 0};
    }

    int padH() {
      return same ? (kh - 1) / 2 : ph;
    }

    int padW() {
      return same ? (kw - 1) / 2 : pw;
    }

    int ho() {
      return h + 2 * padH() - kh + 1;
    }

    int wo() {
      return w + 2 * padW() - kw + 1;
    }
  }

  static INDArray randn(long seed, long... shape) {
    Nd4j.getRandom().setSeed(seed);
    return Nd4j.randn(DataType.FLOAT, shape);
  }

  static INDArray[] inputs(Case c) {
    long seed = c.toString().hashCode();
    INDArray x = randn(seed, c.b(), c.h(), c.w(), c.ci());
    INDArray w = randn(seed + 1, c.kh(), c.kw(), c.ci(), c.co());
    INDArray dy = randn(seed + 2, c.b(), c.ho(), c.wo(), c.co());
    return c.bias() ? new INDArray[] {x, w, randn(seed + 3, c.co()), dy} : new INDArray[] {x, w, dy};
  }

  static INDArray[] outputs(INDArray[] in) {
    return in.length == 4 ? new INDArray[] {in[0].ulike(), in[1].ulike(), in[2].ulike()}
        : new INDArray[] {in[0].ulike(), in[1].ulike()};
  }

  /** The exact gradients and, per element, Σ|terms|: {dx, |dx|, dw, |dw|, db, |db|}. */
  static double[][] exact(Case c, INDArray xa, INDArray wa, INDArray dya) {
    double[] x = xa.dup().data().asDouble();
    double[] w = wa.dup().data().asDouble();
    double[] dy = dya.dup().data().asDouble();
    double[][] r = {new double[x.length], new double[x.length], new double[w.length], new double[w.length],
        new double[c.co()], new double[c.co()]};
    for (int b = 0; b < c.b(); b++) {
      for (int oh = 0; oh < c.ho(); oh++) {
        for (int ow = 0; ow < c.wo(); ow++) {
          int yAt = ((b * c.ho() + oh) * c.wo() + ow) * c.co();
          for (int o = 0; o < c.co(); o++) {
            r[4][o] += dy[yAt + o];
            r[5][o] += Math.abs(dy[yAt + o]);
          }
          for (int kh = 0; kh < c.kh(); kh++) {
            int ih = oh + kh - c.padH();
            for (int kw = 0; kw < c.kw(); kw++) {
              int iw = ow + kw - c.padW();
              if (ih < 0 || ih >= c.h() || iw < 0 || iw >= c.w()) {
                continue;
              }
              int xAt = ((b * c.h() + ih) * c.w() + iw) * c.ci();
              for (int i = 0; i < c.ci(); i++) {
                int wAt = ((kh * c.kw() + kw) * c.ci() + i) * c.co();
                for (int o = 0; o < c.co(); o++) {
                  double t = x[xAt + i] * dy[yAt + o];
                  r[2][wAt + o] += t;
                  r[3][wAt + o] += Math.abs(t);
                  double s = w[wAt + o] * dy[yAt + o];
                  r[0][xAt + i] += s;
                  r[1][xAt + i] += Math.abs(s);
                }
              }
            }
          }
        }
      }
    }
    return r;
  }

  /** max over elements of |actual − exact| / (γ_n·Σ|terms|) (a bound of 0 only for an exact 0). */
  static double share(INDArray actual, double[] exact, double[] abs, long n) {
    double[] a = actual.dup().data().asDouble();
    double gamma = n * U / (1 - n * U);
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      double diff = Math.abs(a[i] - exact[i]);
      double bound = gamma * abs[i];
      worst = Math.max(worst, bound == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : diff / bound);
    }
    return worst;
  }

}
