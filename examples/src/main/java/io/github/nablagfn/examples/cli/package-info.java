/**
 * The {@code bin/nabla} command line (picocli): {@code quickstart}, {@code finetune} and {@code compare}
 * (fine-tuning runs of the digit model with any objective, reward and sampler, settings from flags or a
 * JSON/YAML file, evaluation curves, grids and checkpoints), {@code evaluate}, and wrappers for the
 * training and benchmark mains. Exit codes: 0 success, 2 bad usage or input, 1 failure.
 */
package io.github.nablagfn.examples.cli;
