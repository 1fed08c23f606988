package io.github.nablagfn.diffusion.data;

import java.io.IOException;

/** A malformed IDX file; the message names the file and the problem. */
public class IdxFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public IdxFormatException(String message) {
    super(message);
  }
}
