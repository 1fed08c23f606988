package io.github.nablagfn.core.nn;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The named parameters of a model, in insertion (module) order and PyTorch layout (Linear
 * [out, in], Conv2d [out, in, kh, kw]) so that PyTorch safetensors load by name.
 *
 * <p>Graphs reference these arrays directly (see {@link GraphScope}); an optimizer updating them in
 * place is seen by every graph built on them. {@link #copy()} makes an independent deep copy (a
 * frozen reference model, for instance).
 */
public final class ParameterSet {
  private final Map<String, INDArray> params = new LinkedHashMap<>();

  /** Registers a parameter; names are unique. Returns the array. */
  public INDArray add(String name, INDArray value) {
    if (params.containsKey(name)) {
      throw new IllegalArgumentException("parameter '" + name + "' is already defined");
    }
    params.put(name, value);
    return value;
  }

  /** The parameter called {@code name}. */
  public INDArray get(String name) {
    INDArray a = params.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no parameter '" + name + "'; defined: " + params.keySet());
    }
    return a;
  }

  public boolean contains(String name) {
    return params.containsKey(name);
  }

  /** Parameter names in module order. */
  public Set<String> names() {
    return Collections.unmodifiableSet(params.keySet());
  }

  /** A read-only view name → array (the arrays themselves are live). */
  public Map<String, INDArray> asMap() {
    return Collections.unmodifiableMap(params);
  }

  /**
   * A gradient for every parameter, in module order, from {@code gradients} keyed {@code prefix + name}; a
   * parameter without one (no loss term reaches it: SameDiff returns none) gets zeros of its shape.
   */
  public Map<String, INDArray> gradientsOrZeros(Map<String, INDArray> gradients, String prefix) {
    Map<String, INDArray> all = new LinkedHashMap<>();
    params.forEach((name, p) -> {
      INDArray g = gradients.get(prefix + name);
      all.put(name, g != null ? g : org.nd4j.linalg.factory.Nd4j.zeros(p.dataType(), p.shape()));
    });
    return all;
  }

  /** Total number of scalar parameters. */
  public long count() {
    long n = 0;
    for (INDArray a : params.values()) {
      n += a.length();
    }
    return n;
  }

  /** A deep copy with the same names and values. */
  public ParameterSet copy() {
    ParameterSet c = new ParameterSet();
    params.forEach((k, v) -> c.add(k, v.dup()));
    return c;
  }

  /**
   * Loads this set's values from a safetensors file (e.g. PyTorch weights): every parameter must be
   * present with its shape and nothing else may be; the error names the file and the tensor.
   */
  public void loadSafetensors(java.nio.file.Path file) throws java.io.IOException {
    loadTensors(file, io.github.nablagfn.core.io.Safetensors.read(file).tensors());
  }

  /** {@link #load(Map, boolean)} of tensors read from {@code source}, failing with an IOException naming it. */
  public void loadTensors(java.nio.file.Path source, Map<String, INDArray> values) throws java.io.IOException {
    try {
      load(values, false);
    } catch (IllegalArgumentException e) {
      throw new java.io.IOException(source + ": " + e.getMessage(), e);
    }
  }

  /**
   * Copies values into this set's arrays (in place, so graphs see them). Every parameter must be
   * present with the same shape; extra entries in {@code values} are an error unless
   * {@code allowExtra}. Throws naming the first missing, mis-shaped or unexpected tensor.
   */
  public void load(Map<String, INDArray> values, boolean allowExtra) {
    validate(values, allowExtra);
    for (Map.Entry<String, INDArray> e : params.entrySet()) {
      INDArray src = values.get(e.getKey());
      e.getValue().assign(src.castTo(e.getValue().dataType()));
    }
  }

  /**
   * Checks, without changing anything, that {@link #load(Map, boolean)} would accept {@code values}:
   * throws naming the first missing, mis-shaped or unexpected tensor. Lets a caller that loads several
   * sets check them all before touching any.
   */
  public void validate(Map<String, INDArray> values, boolean allowExtra) {
    for (Map.Entry<String, INDArray> e : params.entrySet()) {
      INDArray v = values.get(e.getKey());
      if (v == null) {
        throw new IllegalArgumentException("missing tensor '" + e.getKey() + "' with shape "
            + Arrays.toString(e.getValue().shape()));
      }
      if (!Arrays.equals(v.shape(), e.getValue().shape())) {
        throw new IllegalArgumentException("tensor '" + e.getKey() + "' has shape " + Arrays.toString(v.shape())
            + "; expected " + Arrays.toString(e.getValue().shape()));
      }
    }
    if (!allowExtra) {
      for (String k : values.keySet()) {
        if (!params.containsKey(k)) {
          throw new IllegalArgumentException("unexpected tensor '" + k + "'; this model has " + params.keySet());
        }
      }
    }
  }
}
