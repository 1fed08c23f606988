/**
 * Noise schedules of the forward diffusion: β_1..β_T, α_t = 1 − β_t, ᾱ_t = Π_{s≤t} α_s, kept in
 * double precision.
 */
package io.github.nablagfn.core.schedule;
