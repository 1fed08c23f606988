/** Classifier-free guidance (Ho and Salimans 2022) as a denoiser wrapper. */
package io.github.nablagfn.diffusion.guidance;
