/**
 * Longer studies on toy problems, printing JSON lines (not part of the test suite):
 * {@code TiltedGaussianStudy} (linear-Gaussian tilt), {@code MixtureModesStudy} (mode keeping and mode
 * weights on a 4-mode mixture, with the diagnostics of docs/trainer.md), and {@code MixtureTilt}, the
 * mixture's exact tilted log-flow those diagnostics compare against (tested in {@code MixtureTiltTest}),
 * and {@code DigitTiltCeiling}, the accuracy and diversity of the digit model's exact tilted target.
 */
package io.github.nablagfn.examples.study;
