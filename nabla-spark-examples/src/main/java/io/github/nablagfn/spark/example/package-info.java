/** A runnable example: timed distributed fine-tuning on any Spark master. */
package io.github.nablagfn.spark.example;
