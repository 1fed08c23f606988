/**
 * Image diffusion: {@code unet} (the twin-exact U-Net and flow U-Net), {@code lora} (LoRA adapters),
 * {@code guidance} (classifier-free guidance), {@code data} (IDX datasets), {@code image} (PNG grids).
 */
package io.github.nablagfn.diffusion;
