/**
 * Toy data with known distributions for closed-form checks: a d-dimensional Gaussian N(m, S) and a
 * mixture of Gaussians (e.g. 8 modes on a circle).
 */
package io.github.nablagfn.core.toy;
