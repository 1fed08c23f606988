/**
 * Reverse-process samplers over a {@link io.github.nablagfn.core.schedule.NoiseSchedule}: DDPM
 * (ancestral), DDIM with stochasticity η, and first-order SDE-DPM-Solver++. Every step is a Gaussian
 * transition P_F(x_s | x_t) = N(μ, σ² I) whose mean is linear in the sample x_t and the model output;
 * {@link io.github.nablagfn.core.sampler.GaussianStep} holds those coefficients (in double) and applies
 * them eagerly (sampling) or as SameDiff ops (losses).
 */
package io.github.nablagfn.core.sampler;
