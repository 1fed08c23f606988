/**
 * Image diffusion: U-Net and flow U-Net denoisers, LoRA adapters, classifier-free guidance, digit datasets and image grids (in progress, see the image issue).
 */
package io.github.nablagfn.diffusion;
