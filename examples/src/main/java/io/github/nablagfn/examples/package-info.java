/**
 * Runnable main classes, the CLI and benchmarks (in progress, see the users' surface issue).
 */
package io.github.nablagfn.examples;
