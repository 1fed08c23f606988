package io.github.nablagfn.core.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Where a model adds its ops: a SameDiff graph, a name prefix for its variables, and the parameter
 * set the variables are bound to. A parameter becomes the SameDiff variable {@code prefix + name}
 * holding the very same array (no copy), created on first use; with {@code trainable = false} it is a
 * constant instead, so a frozen model can sit in the same graph as the trained one.
 */
public record GraphScope(SameDiff sd, String prefix, ParameterSet params, boolean trainable) {

  /** A trainable scope. */
  public static GraphScope of(SameDiff sd, String prefix, ParameterSet params) {
    return new GraphScope(sd, prefix, params, true);
  }

  /** The graph variable of parameter {@code name}. */
  public SDVariable param(String name) {
    String full = prefix + name;
    if (sd.hasVariable(full)) {
      return sd.getVariable(full);
    }
    return trainable ? sd.var(full, params.get(name)) : sd.constant(full, params.get(name));
  }

  /** The graph names of this scope's parameters, for gradient requests. */
  public String[] variableNames() {
    return params.names().stream().map(n -> prefix + n).toArray(String[]::new);
  }
}
