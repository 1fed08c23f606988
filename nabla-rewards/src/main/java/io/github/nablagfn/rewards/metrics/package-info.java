/** Evaluation metrics over feature arrays: Fréchet distance (FID on classifier features) and diversity. */
package io.github.nablagfn.rewards.metrics;
