package io.github.nablagfn.core.train;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Named float32 tensors held as plain Java arrays (shape + values), for moving parameters, gradients and
 * trajectories between processes without serialising native arrays. Immutable once built; the arrays it
 * returns are copies of its data.
 */
public final class HostTensors implements Serializable {
  private static final long serialVersionUID = 1L;

  private final LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
  private final LinkedHashMap<String, float[]> values = new LinkedHashMap<>();

  private HostTensors() {}

  /** No tensors. */
  public static HostTensors empty() {
    return new HostTensors();
  }

  /** Copies {@code tensors} (float32 only; any other type is refused, naming the tensor). */
  public static HostTensors of(Map<String, INDArray> tensors) {
    HostTensors h = new HostTensors();
    tensors.forEach((name, a) -> {
      if (a.dataType() != DataType.FLOAT) {
        throw new IllegalArgumentException("tensor '" + name + "' is " + a.dataType() + "; expected FLOAT");
      }
      h.shapes.put(name, a.shape().clone());
      h.values.put(name, a.dup('c').data().asFloat());
    });
    return h;
  }

  public int size() {
    return values.size();
  }

  public boolean contains(String name) {
    return values.containsKey(name);
  }

  /** The tensor names in insertion order. */
  public java.util.Set<String> names() {
    return Collections.unmodifiableSet(values.keySet());
  }

  /** The tensor {@code name} as a new ND4J array. */
  public INDArray get(String name) {
    float[] v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no tensor '" + name + "'; present: " + values.keySet());
    }
    return Nd4j.create(v.clone(), shapes.get(name), DataType.FLOAT);
  }

  /** Every tensor as a new ND4J array, in insertion order. */
  public Map<String, INDArray> toArrays() {
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (String name : values.keySet()) {
      out.put(name, get(name));
    }
    return out;
  }

  /** The tensors whose names start with {@code prefix}, with the prefix removed. */
  public Map<String, INDArray> withPrefix(String prefix) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (String name : values.keySet()) {
      if (name.startsWith(prefix)) {
        out.put(name.substring(prefix.length()), get(name));
      }
    }
    return out;
  }

  /**
   * The element-wise sum of this and {@code other} (a name in one only is taken as is); a name in both
   * with different shapes is refused.
   */
  public HostTensors plus(HostTensors other) {
    HostTensors h = new HostTensors();
    for (String name : values.keySet()) {
      h.shapes.put(name, shapes.get(name));
      h.values.put(name, values.get(name));
    }
    other.values.forEach((name, v) -> {
      float[] mine = h.values.get(name);
      if (mine == null) {
        h.shapes.put(name, other.shapes.get(name));
        h.values.put(name, v);
        return;
      }
      if (!Arrays.equals(h.shapes.get(name), other.shapes.get(name))) {
        throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(h.shapes.get(name))
            + " in one part and " + Arrays.toString(other.shapes.get(name)) + " in the other");
      }
      float[] sum = mine.clone();
      for (int i = 0; i < sum.length; i++) {
        sum[i] += v[i];
      }
      h.values.put(name, sum);
    });
    return h;
  }

  /** Every value multiplied by {@code factor} (in float, as ND4J would). */
  public HostTensors times(double factor) {
    HostTensors h = new HostTensors();
    float f = (float) factor;
    values.forEach((name, v) -> {
      float[] s = v.clone();
      if (f != 1f) {
        for (int i = 0; i < s.length; i++) {
          s[i] *= f;
        }
      }
      h.shapes.put(name, shapes.get(name));
      h.values.put(name, s);
    });
    return h;
  }

  /** Total number of values. */
  public long count() {
    long n = 0;
    for (float[] v : values.values()) {
      n += v.length;
    }
    return n;
  }
}
