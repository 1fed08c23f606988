/**
 * Process-wide settings (thread count, quiet graph building), seeded and reproducible randomness, and
 * how graphs are executed: {@code GraphRuns} runs every forward and gradient graph of the library, by a
 * {@code GraphPlan} (compiled once per placeholder-shape signature, executed op by op into buffers of
 * the calling thread's {@code PlanArena}; {@code -Dnabla.graphPlans=false} turns this off) or else by
 * SameDiff's session with its arrays released during and after the run; {@code OpProfile} times every
 * op of those runs. Each thread that runs graphs holds its own arena: about the peak of live
 * intermediates of the largest graph it ran in the last 256 runs.
 */
package io.github.nablagfn.core.runtime;
