package io.github.nablagfn.core.optim;

import io.github.nablagfn.core.nn.ParameterSet;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * AdamW (Loshchilov and Hutter 2019) with PyTorch's update order, applied in place to a
 * {@link ParameterSet}, after optional global-norm clipping. For step k = 1, 2, ...:
 * <pre>
 *   g ← g · min(1, c/(‖g‖ + 1e-6))          global L2 norm over all parameters (clip c, if set)
 *   p ← p · (1 − lr·λ)                       decoupled weight decay
 *   m ← β1 m + (1−β1) g,   v ← β2 v + (1−β2) g²
 *   p ← p − (lr/(1−β1^k)) · m / (√v/√(1−β2^k) + ε)
 * </pre>
 * Immutable hyperparameters; the moment estimates live in the {@link State} this optimizer creates.
 */
public record AdamW(double lr, double beta1, double beta2, double eps, double weightDecay, double clipNorm) {

  public AdamW {
    check("lr", lr, lr > 0 && Double.isFinite(lr), "> 0");
    check("beta1", beta1, beta1 >= 0 && beta1 < 1, "in [0, 1)");
    check("beta2", beta2, beta2 >= 0 && beta2 < 1, "in [0, 1)");
    check("eps", eps, eps > 0 && Double.isFinite(eps), "> 0");
    check("weightDecay", weightDecay, weightDecay >= 0 && Double.isFinite(weightDecay), ">= 0");
    check("clipNorm", clipNorm, clipNorm > 0, "> 0 (or +Infinity for no clipping)");
  }

  private static void check(String field, double value, boolean ok, String range) {
    if (!ok) {
      throw new IllegalArgumentException("AdamW." + field + " = " + value + "; expected " + range);
    }
  }

  /** lr with PyTorch's defaults otherwise: β = (0.9, 0.999), ε = 1e-8, weight decay 0.01, no clipping. */
  public static AdamW lr(double lr) {
    return new AdamW(lr, 0.9, 0.999, 1e-8, 0.01, Double.POSITIVE_INFINITY);
  }

  public AdamW betas(double beta1, double beta2) {
    return new AdamW(lr, beta1, beta2, eps, weightDecay, clipNorm);
  }

  public AdamW eps(double eps) {
    return new AdamW(lr, beta1, beta2, eps, weightDecay, clipNorm);
  }

  public AdamW weightDecay(double weightDecay) {
    return new AdamW(lr, beta1, beta2, eps, weightDecay, clipNorm);
  }

  /** Clip the global gradient norm to {@code clipNorm} ({@code +Infinity}: no clipping). */
  public AdamW clipNorm(double clipNorm) {
    return new AdamW(lr, beta1, beta2, eps, weightDecay, clipNorm);
  }

  public AdamW withLr(double lr) {
    return new AdamW(lr, beta1, beta2, eps, weightDecay, clipNorm);
  }

  /** Fresh optimizer state (zero moments, step 0) for the parameters of {@code params}. */
  public State newState(ParameterSet params) {
    Map<String, INDArray> m = new LinkedHashMap<>();
    Map<String, INDArray> v = new LinkedHashMap<>();
    params.asMap().forEach((k, p) -> {
      m.put(k, Nd4j.zeros(p.dataType(), p.shape()));
      v.put(k, Nd4j.zeros(p.dataType(), p.shape()));
    });
    return new State(m, v, 0);
  }

  /** Global L2 norm √Σ‖g‖² over all gradients, accumulated in double. */
  public static double globalNorm(Map<String, INDArray> grads) {
    double sq = 0;
    for (INDArray g : grads.values()) {
      double n = norm2(g);
      sq += n * n;
    }
    return Math.sqrt(sq);
  }

  /**
   * ‖g‖₂ without float overflow or underflow: a float32 tensor's squares overflow above ≈ 1.8e19 (a
   * finite gradient of 1e20 would read as an infinite norm, and be refused as non-finite) and underflow
   * below ≈ 1e-19, so outside [1e-15, 1e15] the norm is taken of g / max|g| and scaled back in double.
   * NaN or infinite entries still give a non-finite norm.
   */
  static double norm2(INDArray g) {
    if (g.isEmpty()) {
      return 0;
    }
    double amax = g.amaxNumber().doubleValue();
    if (amax == 0 || !Double.isFinite(amax) || (amax >= 1e-15 && amax <= 1e15)) {
      return g.norm2Number().doubleValue(); // a NaN or infinite entry makes this NaN or infinite
    }
    return g.div(amax).norm2Number().doubleValue() * amax;
  }

  /**
   * Scales gradients in place so their global norm is at most {@code maxNorm}, as PyTorch's
   * {@code clip_grad_norm_}: factor min(1, maxNorm/(norm + 1e-6)). Returns the norm before clipping.
   */
  public static double clipGlobalNorm(Map<String, INDArray> grads, double maxNorm) {
    return clip(grads, globalNorm(grads), maxNorm);
  }

  /** Scales {@code grads} whose global norm is {@code norm} to at most {@code maxNorm}; returns norm. */
  private static double clip(Map<String, INDArray> grads, double norm, double maxNorm) {
    if (Double.isFinite(maxNorm)) {
      double coef = maxNorm / (norm + 1e-6);
      if (coef < 1.0) {
        for (INDArray g : grads.values()) {
          g.muli(coef);
        }
      }
    }
    return norm;
  }

  /**
   * Clips {@code grads} (in place) and applies one AdamW step to {@code params} (in place), updating
   * {@code state}. Every parameter needs a gradient of its shape. Returns the gradient norm before
   * clipping. A non-finite norm throws before anything is changed.
   */
  public double step(ParameterSet params, Map<String, INDArray> grads, State state) {
    for (String name : params.names()) {
      INDArray g = grads.get(name);
      if (g == null) {
        throw new IllegalArgumentException("no gradient for parameter '" + name + "'");
      }
      if (!Arrays.equals(g.shape(), params.get(name).shape())) {
        throw new IllegalArgumentException("gradient of '" + name + "' has shape " + Arrays.toString(g.shape())
            + "; expected " + Arrays.toString(params.get(name).shape()));
      }
      if (!state.m().containsKey(name)) {
        throw new IllegalArgumentException("optimizer state has no moments for parameter '" + name + "'");
      }
    }
    double norm = globalNorm(grads);
    if (!Double.isFinite(norm)) {
      throw new ArithmeticException("non-finite gradient norm " + norm + "; parameters left unchanged");
    }
    clip(grads, norm, clipNorm);
    long k = state.step() + 1;
    double bc1 = 1.0 - Math.pow(beta1, k);
    double bc2 = 1.0 - Math.pow(beta2, k);
    double stepSize = lr / bc1;
    double sqrtBc2 = Math.sqrt(bc2);
    for (String name : params.names()) {
      INDArray p = params.get(name);
      INDArray g = grads.get(name).castTo(p.dataType());
      INDArray m = state.m().get(name);
      INDArray v = state.v().get(name);
      // 1. decoupled weight decay
      if (weightDecay != 0) {
        p.muli(1.0 - lr * weightDecay);
      }
      // 2. moments
      m.muli(beta1).addi(g.mul(1.0 - beta1));
      v.muli(beta2).addi(g.mul(g).muli(1.0 - beta2));
      // 3. bias-corrected update
      INDArray denom = Transforms.sqrt(v, true).divi(sqrtBc2).addi(eps);
      p.subi(m.div(denom).muli(stepSize));
    }
    state.setStep(k);
    return norm;
  }

  /** First and second moment estimates per parameter and the step count; saveable as tensors. */
  public static final class State {
    private final Map<String, INDArray> m;
    private final Map<String, INDArray> v;
    private long step;

    public State(Map<String, INDArray> m, Map<String, INDArray> v, long step) {
      if (!m.keySet().equals(v.keySet())) {
        throw new IllegalArgumentException("first and second moments name different parameters");
      }
      if (step < 0) {
        throw new IllegalArgumentException("step = " + step + "; expected >= 0");
      }
      this.m = new LinkedHashMap<>(m);
      this.v = new LinkedHashMap<>(v);
      this.step = step;
    }

    public Map<String, INDArray> m() {
      return m;
    }

    public Map<String, INDArray> v() {
      return v;
    }

    public long step() {
      return step;
    }

    void setStep(long step) {
      this.step = step;
    }

    /** As named tensors: {@code m.<name>}, {@code v.<name>} and the scalar {@code step} (int64). */
    public Map<String, INDArray> toTensors() {
      Map<String, INDArray> out = new LinkedHashMap<>();
      m.forEach((k, a) -> out.put("m." + k, a));
      v.forEach((k, a) -> out.put("v." + k, a));
      out.put("step", Nd4j.scalar(DataType.INT64, step));
      return out;
    }

    /** Reads {@link #toTensors()} output back; throws naming a missing or mis-shaped tensor. */
    public static State fromTensors(Map<String, INDArray> tensors, ParameterSet params) {
      Map<String, INDArray> m = new LinkedHashMap<>();
      Map<String, INDArray> v = new LinkedHashMap<>();
      for (String name : params.names()) {
        long[] shape = params.get(name).shape();
        for (String kind : new String[] {"m.", "v."}) {
          INDArray a = tensors.get(kind + name);
          if (a == null) {
            throw new IllegalArgumentException("optimizer state lacks tensor '" + kind + name + "'");
          }
          if (!Arrays.equals(a.shape(), shape)) {
            throw new IllegalArgumentException("optimizer state tensor '" + kind + name + "' has shape "
                + Arrays.toString(a.shape()) + "; expected " + Arrays.toString(shape));
          }
          (kind.equals("m.") ? m : v).put(name, a.dup());
        }
      }
      INDArray step = tensors.get("step");
      if (step == null || step.length() != 1) {
        throw new IllegalArgumentException("optimizer state lacks the scalar tensor 'step'");
      }
      return new State(m, v, step.getLong(0));
    }
  }
}
