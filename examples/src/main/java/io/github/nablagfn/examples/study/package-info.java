/** Longer studies on toy problems, printing JSON lines (not part of the test suite). */
package io.github.nablagfn.examples.study;
