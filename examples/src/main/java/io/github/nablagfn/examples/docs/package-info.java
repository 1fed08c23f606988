/** Mains that draw the figures of docs/ (e.g. the target density of docs/concepts.md). */
package io.github.nablagfn.examples.docs;
