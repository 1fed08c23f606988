/**
 * Hand-written rewards on images (N, C, H, W) in [−1, 1]: ink amount, left-right symmetry, similarity to
 * a target image (differentiable), JPEG compressibility (not differentiable), and weighted sums.
 */
package io.github.nablagfn.rewards.analytic;
