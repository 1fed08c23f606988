/** Training mains for the shipped models (reward classifier). */
package io.github.nablagfn.examples.train;
