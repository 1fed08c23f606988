/**
 * Reward models and evaluation: {@code classifier} (the twin's digit classifier and its log-probability
 * reward), {@code analytic} (ink, symmetry, similarity, JPEG compressibility, weighted sums) and
 * {@code metrics} (FID on features, pairwise diversity).
 */
package io.github.nablagfn.rewards;
