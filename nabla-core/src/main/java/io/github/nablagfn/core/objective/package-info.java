/**
 * Training objectives, made by {@link io.github.nablagfn.core.objective.Objectives}.
 * {@link io.github.nablagfn.core.objective.ResidualNablaDb}: the Residual ∇-DB loss of Nabla-GFlowNet
 * (forward, backward and terminal terms and the optional prior regulariser, with a
 * {@link io.github.nablagfn.core.objective.ForwardWeighting}), computed on a batch of sampled transitions;
 * {@link io.github.nablagfn.core.objective.NablaDb}: plain ∇-DB, balanced against the noising process. Both
 * are {@link io.github.nablagfn.core.objective.NablaDbObjective}s and run on the graphs of
 * {@link io.github.nablagfn.core.objective.ResidualNablaDbLoss}. The baselines: reward backpropagation
 * through the sampling chain ({@link io.github.nablagfn.core.objective.RewardBackprop}: ReFL, DRaFT-K,
 * DRaFT-LV, AlignProp, on {@link io.github.nablagfn.core.objective.ChainBackprop}) and the likelihood-ratio
 * policy gradient {@link io.github.nablagfn.core.objective.Ddpo} (PPO-clip, on
 * {@link io.github.nablagfn.core.objective.DdpoLoss}).
 */
package io.github.nablagfn.core.objective;
