/**
 * Denoisers: the {@link io.github.nablagfn.core.model.Denoiser} interface every model implements
 * (graph builder plus named parameters), {@link io.github.nablagfn.core.model.DenoiserGraph} (a
 * denoiser's forward graph built once and executed many times), and the toy
 * {@link io.github.nablagfn.core.model.MlpDenoiser} for vector data.
 */
package io.github.nablagfn.core.model;
