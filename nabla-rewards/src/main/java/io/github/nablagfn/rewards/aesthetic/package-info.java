/**
 * An aesthetic-style learned reward: {@link io.github.nablagfn.rewards.aesthetic.AestheticHead} (the LAION
 * aesthetic predictor's MLP, same parameter names) over the reward classifier's features, and
 * {@link io.github.nablagfn.rewards.aesthetic.AestheticReward}, differentiable in the image.
 */
package io.github.nablagfn.rewards.aesthetic;
