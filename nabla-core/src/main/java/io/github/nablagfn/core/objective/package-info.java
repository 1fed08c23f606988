/**
 * Training objectives. {@link io.github.nablagfn.core.objective.ResidualNablaDb}: the Residual ∇-DB
 * loss of Nabla-GFlowNet (forward, backward and terminal terms and the optional prior regulariser),
 * computed on a batch of sampled transitions; {@link io.github.nablagfn.core.objective.NablaDb}: plain
 * ∇-DB, balanced against the noising process. Both are {@link io.github.nablagfn.core.objective.NablaDbObjective}s
 * and run on the graphs of {@link io.github.nablagfn.core.objective.ResidualNablaDbLoss}.
 */
package io.github.nablagfn.core.objective;
