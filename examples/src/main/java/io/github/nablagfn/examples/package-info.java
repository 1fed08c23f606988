/**
 * Runnable main classes: {@code bench} (benchmarks printing JSON lines comparable with the PyTorch twin).
 * The CLI, the main job and the comparison runner arrive with the users' surface and baselines issues.
 */
package io.github.nablagfn.examples;
