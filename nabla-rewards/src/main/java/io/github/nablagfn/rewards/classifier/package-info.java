/** The digit classifier (the twin's reward network) and the classifier log-probability reward. */
package io.github.nablagfn.rewards.classifier;
