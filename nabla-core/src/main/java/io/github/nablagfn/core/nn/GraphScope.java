package io.github.nablagfn.core.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Where a model adds its ops: a SameDiff graph, a name prefix for its variables, and the parameter
 * set the variables are bound to. A parameter becomes the SameDiff variable {@code prefix + name}
 * holding the very same array (no copy), created on first use; with {@code trainable = false} it is a
 * constant instead, so a frozen model can sit in the same graph as the trained one. An optional
 * {@link Override} replaces chosen parameters by expressions (LoRA: W + s·BA).
 */
public record GraphScope(SameDiff sd, String prefix, ParameterSet params, boolean trainable, Override override) {

  /** Replaces a parameter's graph variable by an expression; returns null to keep the default. */
  @FunctionalInterface
  public interface Override {
    SDVariable resolve(String name, SDVariable original);
  }

  public GraphScope(SameDiff sd, String prefix, ParameterSet params, boolean trainable) {
    this(sd, prefix, params, trainable, null);
  }

  /** A trainable scope. */
  public static GraphScope of(SameDiff sd, String prefix, ParameterSet params) {
    return new GraphScope(sd, prefix, params, true, null);
  }

  /** The graph variable of parameter {@code name} (or its override). */
  public SDVariable param(String name) {
    String full = prefix + name;
    SDVariable v = sd.hasVariable(full) ? sd.getVariable(full)
        : trainable ? sd.var(full, params.get(name)) : sd.constant(full, params.get(name));
    if (override != null) {
      String key = full + "__adapted";
      if (sd.hasVariable(key)) {
        return sd.getVariable(key);
      }
      SDVariable o = override.resolve(name, v);
      if (o != null) {
        return o.rename(key);
      }
    }
    return v;
  }

  /** The graph names of this scope's parameters, for gradient requests. */
  public String[] variableNames() {
    return params.names().stream().map(n -> prefix + n).toArray(String[]::new);
  }
}
