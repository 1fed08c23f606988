/**
 * LoRA adapters (Hu et al. 2021) on any Linear or Conv2d weight of a denoiser, with merge, and adapters
 * saved and loaded in Hugging Face PEFT's layout ({@link io.github.nablagfn.diffusion.lora.PeftAdapters}).
 */
package io.github.nablagfn.diffusion.lora;
