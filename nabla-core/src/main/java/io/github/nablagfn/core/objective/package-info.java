/**
 * Training objectives. {@link io.github.nablagfn.core.objective.ResidualNablaDb}: the Residual ∇-DB
 * loss of Nabla-GFlowNet (forward, backward and terminal terms and the optional prior regulariser),
 * computed on a batch of sampled transitions.
 */
package io.github.nablagfn.core.objective;
