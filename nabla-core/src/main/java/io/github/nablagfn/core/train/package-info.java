/**
 * Training loops. {@link io.github.nablagfn.core.train.NablaTrainer}: reward fine-tuning of a
 * {@link io.github.nablagfn.core.model.Denoiser} with any {@link io.github.nablagfn.core.objective.Objective}
 * (Residual ∇-DB and the baselines): its builder, the {@link io.github.nablagfn.core.train.Reference} and
 * {@link io.github.nablagfn.core.train.FlowModel} it balances against, crash-safe checkpoints with resume
 * ({@code Checkpoints}, {@link io.github.nablagfn.core.train.CheckpointException}), the non-finite guard
 * ({@link io.github.nablagfn.core.train.NonFiniteException}), per-iteration records and listeners
 * ({@link io.github.nablagfn.core.train.IterationRecord} with its named
 * {@link io.github.nablagfn.core.train.LossTerms}, {@link io.github.nablagfn.core.train.JsonlListener}), and the
 * sealed {@link io.github.nablagfn.core.train.RowTask}s an {@link io.github.nablagfn.core.train.Execution} runs
 * (in process, or on Spark). Inside: one engine per objective family ({@code ObjectiveEngine}), the row worker,
 * the parameter updates, the non-finite guard, the step selector and the checkpoint state, a file each.
 * {@link io.github.nablagfn.core.train.Pretrainer}: denoising (ε-MSE) pretraining of any denoiser on any
 * {@link io.github.nablagfn.core.train.DataSource}.
 */
package io.github.nablagfn.core.train;
