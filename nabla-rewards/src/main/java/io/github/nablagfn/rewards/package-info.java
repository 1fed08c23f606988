/**
 * Reward models and evaluation metrics (in progress, see the rewards issue).
 */
package io.github.nablagfn.rewards;
