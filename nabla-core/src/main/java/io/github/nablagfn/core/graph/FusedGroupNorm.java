package io.github.nablagfn.core.graph;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * Group normalisation with its per-channel affine map, optionally followed by SiLU, as one Java op
 * ({@link GroupNormKernels}): inputs x (B, C, H, W) or channels-last (B, H, W, C), γ (C), β (C); outputs y (the
 * input's shape), and the group means and 1/√(σ² + ε) (B, G) that its gradient op reuses. The same function as
 * the composition in {@code core.nn.GroupNorm}; only a {@link GraphPlan} runs it.
 */
public final class FusedGroupNorm extends DynamicCustomOp implements JavaOp {
  static {
    // SameDiff clones a graph by serialising it before differentiating it, and re-creates each custom op by
    // looking its name up here: our ops are known by name, as ND4J's own ops are
    var names = org.nd4j.imports.converters.ImportClassMapping.getOpNameMapping();
    for (boolean silu : new boolean[] {false, true}) {
      FusedGroupNorm op = new FusedGroupNorm();
      op.settings = new Settings(0, 0, false, silu);
      names.putIfAbsent(op.opName(), op);
      FusedGroupNormBackward bp = new FusedGroupNormBackward();
      bp.settings = op.settings;
      names.putIfAbsent(bp.opName(), bp);
    }
  }

  /** The op's settings, shared with its gradient op; as a map, the properties SameDiff serialises. */
  record Settings(int groups, double eps, boolean channelsLast, boolean silu) {
    java.util.Map<String, Object> toMap() {
      java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
      m.put("groups", groups);
      m.put("eps", eps);
      m.put("channelsLast", channelsLast);
      m.put("silu", silu);
      return m;
    }

    static Settings of(java.util.Map<String, Object> p) {
      return new Settings(((Number) p.get("groups")).intValue(), ((Number) p.get("eps")).doubleValue(),
          (Boolean) p.get("channelsLast"), (Boolean) p.get("silu"));
    }
  }

  private Settings settings = new Settings(0, 0, false, false);

  /** For ND4J's reflection (op registries); not for use. */
  public FusedGroupNorm() {}

  private FusedGroupNorm(SameDiff sd, SDVariable x, SDVariable gamma, SDVariable beta, Settings settings) {
    super(sd, new SDVariable[] {x, gamma, beta});
    this.settings = settings;
  }

  /** y = GroupNorm(x)·γ + β, then SiLU when {@code silu}; adds the op (and, on differentiation, its gradient op). */
  public static SDVariable apply(SameDiff sd, SDVariable x, SDVariable gamma, SDVariable beta, int groups, double eps,
      boolean channelsLast, boolean silu) {
    return new FusedGroupNorm(sd, x, gamma, beta, new Settings(groups, eps, channelsLast, silu)).outputVariables()[0];
  }

  @Override
  public String opName() {
    // called by the superclass's constructor too, before the settings are set
    return settings != null && settings.silu() ? "nabla_group_norm_silu" : "nabla_group_norm";
  }

  @Override
  public int getNumOutputs() {
    return 3;
  }

  @Override
  public java.util.Map<String, Object> propertiesForFunction() {
    return settings.toMap();
  }

  @Override
  public void setPropertiesForFunction(java.util.Map<String, Object> p) {
    settings = Settings.of(p);
  }

  @Override
  public List<DataType> calculateOutputDataTypes(List<DataType> in) {
    return List.of(in.get(0), DataType.FLOAT, DataType.FLOAT);
  }

  @Override
  public List<LongShapeDescriptor> calculateOutputShape(OpContext oc) {
    INDArray x = oc.getInputArray(0);
    return List.of(LongShapeDescriptor.fromShape(x.shape(), x.dataType()),
        LongShapeDescriptor.fromShape(new long[] {x.size(0), settings.groups()}, DataType.FLOAT),
        LongShapeDescriptor.fromShape(new long[] {x.size(0), settings.groups()}, DataType.FLOAT));
  }

  @Override
  public List<SDVariable> doDiff(List<SDVariable> grads) {
    SDVariable[] outs = outputVariables();
    SDVariable[] in = args();
    SDVariable[] g = new FusedGroupNormBackward(sameDiff, in[0], in[1], in[2], outs[1], outs[2], grads.get(0), settings)
        .outputVariables();
    return new ArrayList<>(List.of(g[0], g[1], g[2]));
  }

  @Override
  public void execute(INDArray[] in, INDArray[] out) {
    GroupNormKernels.forward(GroupNormKernels.Layout.of(in[0], settings.groups(), settings.channelsLast()), in[0],
        in[1], in[2], out[0], out[1], out[2], (float) settings.eps(), settings.silu());
  }

  /** The gradient op: inputs x, γ, β, means, 1/√(σ² + ε), dL/dy; outputs dL/dx, dL/dγ, dL/dβ. */
  static final class FusedGroupNormBackward extends DynamicCustomOp implements JavaOp {
    private Settings settings = new Settings(0, 0, false, false);

    /** For ND4J's reflection; not for use. */
    public FusedGroupNormBackward() {}

    FusedGroupNormBackward(SameDiff sd, SDVariable x, SDVariable gamma, SDVariable beta, SDVariable mean,
        SDVariable rstd, SDVariable dy, Settings settings) {
      super(sd, new SDVariable[] {x, gamma, beta, mean, rstd, dy});
      this.settings = settings;
    }

    @Override
    public String opName() {
      return settings != null && settings.silu() ? "nabla_group_norm_silu_bp" : "nabla_group_norm_bp";
    }

    @Override
    public int getNumOutputs() {
      return 3;
    }

    @Override
    public java.util.Map<String, Object> propertiesForFunction() {
      return settings.toMap();
    }

    @Override
    public void setPropertiesForFunction(java.util.Map<String, Object> p) {
      settings = Settings.of(p);
    }

    @Override
    public List<DataType> calculateOutputDataTypes(List<DataType> in) {
      return List.of(in.get(0), in.get(1), in.get(2));
    }

    @Override
    public List<LongShapeDescriptor> calculateOutputShape(OpContext oc) {
      List<LongShapeDescriptor> s = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        INDArray a = oc.getInputArray(i);
        s.add(LongShapeDescriptor.fromShape(a.shape(), a.dataType()));
      }
      return s;
    }

    @Override
    public List<SDVariable> doDiff(List<SDVariable> grads) {
      throw new UnsupportedOperationException("second derivatives of " + opName());
    }

    @Override
    public void execute(INDArray[] in, INDArray[] out) {
      GroupNormKernels.backward(GroupNormKernels.Layout.of(in[0], settings.groups(), settings.channelsLast()), in[0],
          in[1], in[2], in[3], in[4], in[5], out[0], out[1], out[2], settings.silu());
    }
  }
}
