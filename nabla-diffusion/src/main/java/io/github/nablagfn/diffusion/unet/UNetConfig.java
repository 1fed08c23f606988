package io.github.nablagfn.diffusion.unet;

import io.github.nablagfn.core.sampler.PredictionType;
import java.util.Arrays;

/**
 * Architecture of a {@link UNet}: L levels with {@code channels[i]} channels, one ResBlock per level,
 * a stride-2 convolution between levels, a middle of two ResBlocks (with single-head self-attention
 * between them if {@code midAttention}), and a mirrored up path with skip concatenation and
 * nearest-neighbour ×2 upsampling followed by a 3×3 convolution.
 *
 * @param inChannels image channels (1 for digits)
 * @param imageSize height = width, divisible by 2^(L−1)
 * @param channels channels per level, e.g. {32, 64, 64}
 * @param midAttention self-attention between the middle ResBlocks
 * @param groups GroupNorm groups (every channel count must be divisible)
 * @param timeFeatures sinusoidal features of t (even)
 * @param embDim width of the time/class embedding
 * @param numClasses class labels 0..n−1; label n is the null class (classifier-free guidance); 0 = unconditional
 * @param zeroOutput start the output convolution at zero (a residual log-flow g_φ)
 * @param prediction what the output predicts
 */
public record UNetConfig(int inChannels, int imageSize, int[] channels, boolean midAttention, int groups,
    int timeFeatures, int embDim, int numClasses, boolean zeroOutput, PredictionType prediction) {

  public UNetConfig {
    channels = channels.clone();
    check(inChannels >= 1, "inChannels", inChannels, ">= 1");
    check(channels.length >= 1, "channels", Arrays.toString(channels), "at least one level");
    check(groups >= 1, "groups", groups, ">= 1");
    for (int c : channels) {
      check(c >= 1 && c % groups == 0, "channels", Arrays.toString(channels), "positive multiples of groups = " + groups);
    }
    check(imageSize >= 1 && imageSize % (1 << (channels.length - 1)) == 0, "imageSize", imageSize,
        "divisible by 2^(levels−1) = " + (1 << (channels.length - 1)));
    check(timeFeatures >= 2 && timeFeatures % 2 == 0, "timeFeatures", timeFeatures, "an even number >= 2");
    check(embDim >= 1, "embDim", embDim, ">= 1");
    check(numClasses >= 0, "numClasses", numClasses, ">= 0");
    check(prediction != null, "prediction", "null", "a PredictionType");
  }

  private static void check(boolean ok, String field, Object value, String expected) {
    if (!ok) {
      throw new IllegalArgumentException("UNetConfig." + field + " = " + value + "; expected " + expected);
    }
  }

  /** The reference "small" ε-U-Net of the twin: 1×32×32, channels 32/64/64, attention, 10 classes + null; 795,105 parameters. */
  public static UNetConfig small() {
    return new UNetConfig(1, 32, new int[] {32, 64, 64}, true, 8, 32, 128, 10, false, PredictionType.EPSILON);
  }

  /** The twin's residual log-flow U-Net g_φ: channels 16/32/32, no attention, zero output; 226,673 parameters. */
  public static UNetConfig flowSmall() {
    return new UNetConfig(1, 32, new int[] {16, 32, 32}, false, 8, 32, 128, 10, true, PredictionType.EPSILON);
  }

  @Override
  public int[] channels() {
    return channels.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UNetConfig u && inChannels == u.inChannels && imageSize == u.imageSize
        && Arrays.equals(channels, u.channels) && midAttention == u.midAttention && groups == u.groups
        && timeFeatures == u.timeFeatures && embDim == u.embDim && numClasses == u.numClasses
        && zeroOutput == u.zeroOutput && prediction == u.prediction;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(channels) * 31 + java.util.Objects.hash(inChannels, imageSize, midAttention, groups,
        timeFeatures, embDim, numClasses, zeroOutput, prediction);
  }

  @Override
  public String toString() {
    return "UNetConfig[in=" + inChannels + ", size=" + imageSize + ", channels=" + Arrays.toString(channels)
        + ", attention=" + midAttention + ", groups=" + groups + ", classes=" + numClasses + ", zeroOutput="
        + zeroOutput + ", " + prediction + "]";
  }
}
