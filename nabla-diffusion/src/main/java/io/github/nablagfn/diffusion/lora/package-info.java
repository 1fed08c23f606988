/** LoRA adapters (Hu et al. 2021) on any weight of a denoiser, with merge and adapter-only save/load. */
package io.github.nablagfn.diffusion.lora;
