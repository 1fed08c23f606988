package io.github.nablagfn.core.objective;

/** A fine-tuning objective with validated settings; the trainer builds its graphs once per run. */
public interface Objective {
  /** A short name for logs, metrics and checkpoints. */
  String name();

  /** The settings as strings, recorded in checkpoints and compared on resume. */
  java.util.Map<String, String> settings();
}
