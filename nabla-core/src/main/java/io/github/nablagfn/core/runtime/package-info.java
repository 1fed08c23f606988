/** Process-wide settings (thread count, quiet graph building) and seeded, reproducible randomness. */
package io.github.nablagfn.core.runtime;
