/**
 * Reward models and evaluation: {@code classifier} (the twin's digit classifier and its log-probability
 * reward). Metrics, the aesthetic-style head and the other rewards arrive with the rewards issue.
 */
package io.github.nablagfn.rewards;
