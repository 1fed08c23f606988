/**
 * Training loops. {@link io.github.nablagfn.core.train.Pretrainer}: denoising (ε-MSE) pretraining of
 * any {@link io.github.nablagfn.core.model.Denoiser} on any {@link io.github.nablagfn.core.train.DataSource}.
 */
package io.github.nablagfn.core.train;
