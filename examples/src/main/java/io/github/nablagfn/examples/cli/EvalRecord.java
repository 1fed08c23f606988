package io.github.nablagfn.examples.cli;

/**
 * One evaluation of a fine-tuning run on its fixed evaluation set: a line of {@code eval.jsonl}
 * (snake_case keys: {@code iteration}, {@code reward}, {@code accuracy}, {@code diversity},
 * {@code fid_to_base}; docs/metrics.md).
 *
 * @param iteration the training iterations done when the samples were drawn (0: the base model)
 * @param reward the run's reward, unscaled (β not applied), averaged over the evaluation samples
 * @param accuracy the fraction of samples the shipped classifier assigns to their conditioning class
 * @param diversity mean within-class pairwise cosine distance of the classifier's features, averaged over classes
 * @param fidToBase Fréchet distance between the classifier features of these samples and of the base model's
 *     samples of the same noises
 */
public record EvalRecord(long iteration, double reward, double accuracy, double diversity, double fidToBase) {}
