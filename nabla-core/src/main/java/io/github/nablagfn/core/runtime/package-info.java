/**
 * Process-wide settings and randomness: {@code NablaRuntime} (thread count, quiet graph building, memory
 * relief, the applications' process choices) and {@code Rng} (seeded, forkable, reproducible streams; row
 * streams that give a share of a batch exactly the numbers of the whole batch). How graphs are executed is in
 * {@link io.github.nablagfn.core.graph}.
 */
package io.github.nablagfn.core.runtime;
