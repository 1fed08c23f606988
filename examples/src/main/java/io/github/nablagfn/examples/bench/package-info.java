/** Benchmarks that print JSON lines comparable with the PyTorch twin's {@code bench} command. */
package io.github.nablagfn.examples.bench;
