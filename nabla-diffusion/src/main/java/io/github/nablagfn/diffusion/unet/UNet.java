package io.github.nablagfn.diffusion.unet;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.nn.Activations;
import io.github.nablagfn.core.nn.Conv2d;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.GroupNorm;
import io.github.nablagfn.core.nn.Linear;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.nn.SinusoidalEmbedding;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.PredictionType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Class-conditional U-Net denoiser (see {@link UNetConfig}); with {@link UNetConfig#small()} it is the
 * PyTorch twin's ε-U-Net, parameter for parameter (names, shapes, OIHW conv layout), so the twin's
 * safetensors load with {@link #load(Path)}.
 *
 * <pre>
 *   emb  = time_fc2(SiLU(time_fc1(sin_emb(t)))) + class_emb[c]
 *   h    = conv_in(x)
 *   down_i: h = ResBlock_i(h, emb); s_i = h; h = ds_i(h) (stride 2, not after the last level)
 *   mid:    h = mid2(attn(mid1(h)))
 *   up_i (i = L−1..0): h = ResBlock(cat(h, s_i)); h = us_i(h) (×2 nearest + 3×3 conv, for i > 0)
 *   out  = conv_out(SiLU(norm_out(h)))
 * ResBlock: h = conv1(SiLU(norm1(x))) + emb_proj(SiLU(emb))[:, :, None, None];
 *           h = conv2(SiLU(norm2(h))); out = (x or skip(x)) + h
 * attn:     x + proj(softmax(qᵀk/√C) v) over the H·W tokens of GroupNorm(x), single head
 * </pre>
 */
public final class UNet implements Denoiser {
  private static final double GN_EPS = 1e-5;
  private final UNetConfig config;
  private final ParameterSet params;
  private final Structure s;

  /** The modules, created once; their parameters live in the ParameterSet. */
  private record ResBlock(String name, GroupNorm norm1, Conv2d conv1, Linear embProj, GroupNorm norm2, Conv2d conv2,
      Conv2d skip) {}

  private record Structure(Linear timeFc1, Linear timeFc2, Conv2d convIn, List<ResBlock> down, List<Conv2d> ds,
      ResBlock mid1, GroupNorm attnNorm, Conv2d attnQkv, Conv2d attnProj, ResBlock mid2, List<ResBlock> up,
      List<Conv2d> us, GroupNorm normOut, Conv2d convOut) {}

  private UNet(UNetConfig config, ParameterSet params, Structure s) {
    this.config = config;
    this.params = params;
    this.s = s;
  }

  /** A freshly initialised U-Net (PyTorch default initialisation, in module order, from {@code rng}). */
  public static UNet create(UNetConfig config, Rng rng) {
    ParameterSet p = new ParameterSet();
    int[] ch = config.channels();
    int levels = ch.length;
    int g = config.groups();
    Linear timeFc1 = Linear.create(p, rng, "time_fc1", config.timeFeatures(), config.embDim(), true);
    Linear timeFc2 = Linear.create(p, rng, "time_fc2", config.embDim(), config.embDim(), true);
    if (config.numClasses() > 0) {
      // torch.nn.Embedding initialises N(0, 1)
      p.add("class_emb.weight", rng.gaussian(config.numClasses() + 1, config.embDim()));
    }
    Conv2d convIn = Conv2d.create(p, rng, "conv_in", config.inChannels(), ch[0], 3, 1, 1);
    List<ResBlock> down = new ArrayList<>();
    List<Conv2d> ds = new ArrayList<>();
    for (int i = 0; i < levels; i++) {
      down.add(resBlock(p, rng, "down" + i, i == 0 ? ch[0] : ch[i - 1], ch[i], config));
      if (i + 1 < levels) {
        ds.add(Conv2d.create(p, rng, "ds" + i, ch[i], ch[i], 3, 2, 1));
      }
    }
    int c = ch[levels - 1];
    ResBlock mid1 = resBlock(p, rng, "mid1", c, c, config);
    GroupNorm attnNorm = null;
    Conv2d qkv = null;
    Conv2d proj = null;
    if (config.midAttention()) {
      attnNorm = GroupNorm.create(p, "attn.norm", g, c, GN_EPS);
      qkv = Conv2d.create(p, rng, "attn.qkv", c, 3 * c, 1, 1, 0);
      proj = Conv2d.create(p, rng, "attn.proj", c, c, 1, 1, 0);
    }
    ResBlock mid2 = resBlock(p, rng, "mid2", c, c, config);
    List<ResBlock> up = new ArrayList<>();
    List<Conv2d> us = new ArrayList<>();
    int h = c;
    for (int i = levels - 1; i >= 0; i--) {
      up.add(resBlock(p, rng, "up" + i, h + ch[i], ch[i], config));
      h = ch[i];
      if (i > 0) {
        us.add(Conv2d.create(p, rng, "us" + i, h, h, 3, 1, 1));
      }
    }
    GroupNorm normOut = GroupNorm.create(p, "norm_out", g, ch[0], GN_EPS);
    Conv2d convOut = Conv2d.create(p, rng, "conv_out", ch[0], config.inChannels(), 3, 1, 1);
    if (config.zeroOutput()) {
      p.get("conv_out.weight").assign(0);
      p.get("conv_out.bias").assign(0);
    }
    return new UNet(config, p, new Structure(timeFc1, timeFc2, convIn, down, ds, mid1, attnNorm, qkv, proj, mid2, up,
        us, normOut, convOut));
  }

  private static ResBlock resBlock(ParameterSet p, Rng rng, String name, int in, int out, UNetConfig config) {
    GroupNorm norm1 = GroupNorm.create(p, name + ".norm1", config.groups(), in, GN_EPS);
    Conv2d conv1 = Conv2d.create(p, rng, name + ".conv1", in, out, 3, 1, 1);
    Linear embProj = Linear.create(p, rng, name + ".emb_proj", config.embDim(), out, true);
    GroupNorm norm2 = GroupNorm.create(p, name + ".norm2", config.groups(), out, GN_EPS);
    Conv2d conv2 = Conv2d.create(p, rng, name + ".conv2", out, out, 3, 1, 1);
    Conv2d skip = in == out ? null : Conv2d.create(p, rng, name + ".skip", in, out, 1, 1, 0);
    return new ResBlock(name, norm1, conv1, embProj, norm2, conv2, skip);
  }

  /** Reads parameters from a safetensors file (e.g. the twin's {@code unet.safetensors}); names and shapes must match. */
  public UNet load(Path file) throws IOException {
    params.loadSafetensors(file);
    return this;
  }

  /** Writes the parameters as safetensors with the config as metadata. */
  public void save(Path file) throws IOException {
    Safetensors.write(file, params.asMap(), java.util.Map.of("config", config.toString()));
  }

  public UNetConfig config() {
    return config;
  }

  @Override
  public long[] sampleShape() {
    return new long[] {config.inChannels(), config.imageSize(), config.imageSize()};
  }

  @Override
  public PredictionType predictionType() {
    return config.prediction();
  }

  @Override
  public int numClasses() {
    return config.numClasses();
  }

  @Override
  public ParameterSet parameters() {
    return params;
  }

  /** emb = time_fc2(SiLU(time_fc1(sin_emb(t)))) [+ class_emb[c]], (B, embDim). */
  public SDVariable embedding(GraphScope scope, SDVariable timesteps, SDVariable condition) {
    SameDiff sd = scope.sd();
    SDVariable temb = SinusoidalEmbedding.forward(sd, timesteps, config.timeFeatures());
    SDVariable emb = s.timeFc2().forward(scope, Activations.silu(sd, s.timeFc1().forward(scope, temb)));
    if (config.numClasses() > 0) {
      // one-hot × matrix: the gradient of gather fails in ND4J 1.0.0-M2.1
      SDVariable oneHot = sd.oneHot(condition, config.numClasses() + 1, -1, 1.0, 0.0, DataType.FLOAT);
      emb = emb.add(oneHot.mmul(scope.param("class_emb.weight")));
    }
    return emb;
  }

  /**
   * System property: {@code false} runs the U-Net's graph in PyTorch's NCHW layout instead of channels-last
   * (NHWC), for comparison: same parameters and results up to float rounding; convolutions are 20–30 %
   * faster channels-last in ND4J (1×1 ones about 3×).
   */
  public static final String CHANNELS_LAST_PROPERTY = "nabla.unet.channelsLast";

  private static boolean channelsLast() {
    return Boolean.parseBoolean(System.getProperty(CHANNELS_LAST_PROPERTY, "true"));
  }

  /**
   * x: (B, C, H, W) → ε (or the configured prediction), same shape. Inside, the graph runs channels-last
   * ({@link #CHANNELS_LAST_PROPERTY}): x is permuted to (B, H, W, C) on entry and the output back.
   */
  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable timesteps, SDVariable condition) {
    SameDiff sd = scope.sd();
    Layout l = new Layout(channelsLast());
    int levels = config.channels().length;
    // 1. embedding, shared by every ResBlock as SiLU(emb)
    SDVariable embAct = Activations.silu(sd, embedding(scope, timesteps, condition));
    // 2. down path
    SDVariable h = s.convIn().forward(scope, l.enter(sd, x), l.last);
    List<SDVariable> skips = new ArrayList<>();
    for (int i = 0; i < levels; i++) {
      h = resBlock(scope, l, s.down().get(i), h, embAct);
      skips.add(h);
      if (i + 1 < levels) {
        h = s.ds().get(i).forward(scope, h, l.last);
      }
    }
    // 3. middle
    h = resBlock(scope, l, s.mid1(), h, embAct);
    if (config.midAttention()) {
      h = attention(scope, l, h);
    }
    h = resBlock(scope, l, s.mid2(), h, embAct);
    // 4. up path
    for (int j = 0; j < levels; j++) {
      int i = levels - 1 - j;
      h = resBlock(scope, l, s.up().get(j), sd.concat(l.channelAxis(), h, skips.get(i)), embAct);
      if (i > 0) {
        h = s.us().get(j).forward(scope, l.upsample(sd, h, config.imageSize() >> i, config.channels()[i]), l.last);
      }
    }
    // 5. output
    SDVariable out = s.convOut().forward(scope, s.normOut().forwardSilu(scope, h, l.last), l.last);
    return l.leave(sd, out);
  }

  /** The graph's activation layout: NCHW, or channels-last NHWC. */
  private record Layout(boolean last) {
    int channelAxis() {
      return last ? 3 : 1;
    }

    SDVariable enter(SameDiff sd, SDVariable nchw) {
      return last ? sd.permute(nchw, 0, 2, 3, 1) : nchw;
    }

    SDVariable leave(SameDiff sd, SDVariable h) {
      return last ? sd.permute(h, 0, 3, 1, 2) : h;
    }

    /**
     * Nearest-neighbour ×2 upsampling of h (side × side, c channels). Channels-last duplicates by
     * concatenation along new axes instead of ND4J's {@code upsampling2d}, whose gradient in the NHWC
     * layout is wrong in 1.0.0-M2.1 (measured against the NCHW one: off by as much as the gradient itself).
     */
    SDVariable upsample(SameDiff sd, SDVariable h, int side, int c) {
      if (!last) {
        return sd.cnn().upsampling2d(h, 2, 2, true);
      }
      SDVariable cols = sd.expandDims(h, 3); // (B, H, W, 1, C)
      SDVariable wide = sd.concat(3, cols, cols).reshape(-1, side, 2L * side, c);
      SDVariable rows = sd.expandDims(wide, 2); // (B, H, 1, 2W, C)
      return sd.concat(2, rows, rows).reshape(-1, 2L * side, 2L * side, c);
    }

    /** (B, C) → broadcastable over the spatial axes. */
    SDVariable perChannel(SameDiff sd, SDVariable e) {
      return last ? sd.expandDims(sd.expandDims(e, 1), 1) : sd.expandDims(sd.expandDims(e, 2), 3);
    }
  }

  private static SDVariable resBlock(GraphScope scope, Layout l, ResBlock b, SDVariable x, SDVariable embAct) {
    SameDiff sd = scope.sd();
    SDVariable h = b.conv1().forward(scope, b.norm1().forwardSilu(scope, x, l.last), l.last);
    SDVariable e = b.embProj().forward(scope, embAct); // (B, out)
    h = h.add(l.perChannel(sd, e));
    h = b.conv2().forward(scope, b.norm2().forwardSilu(scope, h, l.last), l.last);
    return (b.skip() == null ? x : b.skip().forward(scope, x, l.last)).add(h);
  }

  private SDVariable attention(GraphScope scope, Layout l, SDVariable x) {
    SameDiff sd = scope.sd();
    int c = config.channels()[config.channels().length - 1];
    int side = config.imageSize() >> (config.channels().length - 1);
    int n = side * side;
    SDVariable qkv = s.attnQkv().forward(scope, s.attnNorm().forward(scope, x, l.last), l.last);
    // 1. tokens (B, N, 3C), row-major; q, k, v: channels [0:C], [C:2C], [2C:3C] of the 1×1 qkv conv over GroupNorm(x)
    SDVariable tokens = l.last ? qkv.reshape(-1, n, 3 * c) : sd.permute(qkv.reshape(-1, 3 * c, n), 0, 2, 1);
    SDVariable q = tokens.get(SDIndex.all(), SDIndex.all(), SDIndex.interval(0, c));
    SDVariable k = tokens.get(SDIndex.all(), SDIndex.all(), SDIndex.interval(c, 2 * c));
    SDVariable v = tokens.get(SDIndex.all(), SDIndex.all(), SDIndex.interval(2 * c, 3 * c));
    // 2. weights over keys: softmax_m(q_n · k_m / √C), (B, N, N)
    SDVariable w = sd.nn().softmax(sd.mmul(q, k, false, true, false).mul(1.0 / Math.sqrt(c)), 2);
    // 3. out[n, c] = Σ_m w[n, m] v[m, c], back to the graph's layout
    SDVariable attended = sd.mmul(w, v);
    SDVariable out = l.last ? attended.reshape(-1, side, side, c)
        : sd.permute(attended, 0, 2, 1).reshape(-1, c, side, side);
    return x.add(s.attnProj().forward(scope, out, l.last));
  }

  @Override
  public UNet copy() {
    return new UNet(config, params.copy(), s);
  }

}
