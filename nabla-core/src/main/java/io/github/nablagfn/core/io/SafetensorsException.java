package io.github.nablagfn.core.io;

import java.io.IOException;

/** A safetensors file that is malformed, truncated or inconsistent; the message names the file, the tensor and the problem. */
public class SafetensorsException extends IOException {
  private static final long serialVersionUID = 1L;

  public SafetensorsException(String message) {
    super(message);
  }

  public SafetensorsException(String message, Throwable cause) {
    super(message, cause);
  }
}
