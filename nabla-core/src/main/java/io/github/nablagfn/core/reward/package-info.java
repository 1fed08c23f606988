/**
 * Rewards: the {@link io.github.nablagfn.core.reward.Reward} interface (a differentiable graph fragment
 * x → R(x) per sample, or an eager non-differentiable function), scaling by β, and analytic rewards for
 * closed-form tests.
 */
package io.github.nablagfn.core.reward;
