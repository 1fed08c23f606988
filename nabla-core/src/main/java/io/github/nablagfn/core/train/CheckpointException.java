package io.github.nablagfn.core.train;

import java.io.IOException;

/** A checkpoint that cannot be used: corrupt, incomplete, or written by a different configuration. */
public class CheckpointException extends IOException {
  private static final long serialVersionUID = 1L;

  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
