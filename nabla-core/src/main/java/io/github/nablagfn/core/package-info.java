/**
 * nabla-core: reward fine-tuning of diffusion models (Nabla-GFlowNet, Residual ∇-DB) on ND4J/SameDiff,
 * independent of images. Sub-packages: {@code runtime} (threads, seeded randomness), {@code io}
 * (safetensors), {@code schedule} (noise schedules), {@code sampler} (DDPM, DDIM, SDE-DPM-Solver++),
 * {@code nn} (SameDiff building blocks), {@code model} (the {@code Denoiser} interface and toy denoisers),
 * {@code optim} (AdamW with clipping), {@code train} (pretraining).
 */
package io.github.nablagfn.core;
