package io.github.nablagfn.core.nn;

import io.github.nablagfn.core.runtime.Rng;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Multi-layer perceptron: Linear → SiLU → ... → Linear, layers named {@code name.0}, {@code name.1}, ...
 * The last layer has no activation and, with {@code zeroOutput}, starts at zero.
 */
public record Mlp(String name, List<Linear> layers) {

  /**
   * @param widths layer widths including input and output, e.g. {in, hidden, hidden, out}
   */
  public static Mlp create(ParameterSet params, Rng rng, String name, int[] widths, boolean zeroOutput) {
    if (widths.length < 2) {
      throw new IllegalArgumentException("Mlp '" + name + "': " + widths.length
          + " widths; expected at least input and output");
    }
    List<Linear> layers = new ArrayList<>();
    for (int i = 0; i + 1 < widths.length; i++) {
      String n = name + "." + i;
      boolean last = i + 2 == widths.length;
      layers.add(last && zeroOutput ? Linear.createZero(params, n, widths[i], widths[i + 1])
          : Linear.create(params, rng, n, widths[i], widths[i + 1], true));
    }
    return new Mlp(name, List.copyOf(layers));
  }

  /** x: (B, widths[0]) → (B, widths[last]). */
  public SDVariable forward(GraphScope scope, SDVariable x) {
    SDVariable h = x;
    for (int i = 0; i < layers.size(); i++) {
      h = layers.get(i).forward(scope, h);
      if (i + 1 < layers.size()) {
        h = Activations.silu(scope.sd(), h);
      }
    }
    return h;
  }
}
