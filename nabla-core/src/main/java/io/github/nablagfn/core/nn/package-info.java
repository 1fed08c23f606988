/**
 * SameDiff building blocks with named parameters: {@link io.github.nablagfn.core.nn.ParameterSet}
 * (named arrays in PyTorch layout, shared by every graph that uses them),
 * {@link io.github.nablagfn.core.nn.GraphScope} (binds a parameter set into one SameDiff graph under a
 * prefix), {@code Linear}, {@code Conv2d}, {@code GroupNorm}, {@code Activations} (SiLU),
 * {@code Mlp}, {@code SinusoidalEmbedding} and seeded initialisers ({@code Init}).
 */
package io.github.nablagfn.core.nn;
