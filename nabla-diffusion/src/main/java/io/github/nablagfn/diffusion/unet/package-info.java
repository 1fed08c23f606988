/**
 * The class-conditional U-Net denoiser and the residual log-flow U-Net g_φ, with PyTorch parameter
 * names and layouts so that the twin's safetensors load directly.
 */
package io.github.nablagfn.diffusion.unet;
