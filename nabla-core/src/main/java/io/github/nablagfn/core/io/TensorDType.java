package io.github.nablagfn.core.io;

import java.util.Optional;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Element types of the safetensors format that nabla reads. F32, F64, I64 and I32 are read and written
 * bit-exactly; F16 and BF16 are read and widened to float32 (exactly: every half value is a float).
 */
public enum TensorDType {
  F32(4, DataType.FLOAT, true),
  F64(8, DataType.DOUBLE, true),
  I64(8, DataType.INT64, true),
  I32(4, DataType.INT32, true),
  F16(2, DataType.FLOAT, false),
  BF16(2, DataType.FLOAT, false);

  private final int bytes;
  private final DataType readAs;
  private final boolean writable;

  TensorDType(int bytes, DataType readAs, boolean writable) {
    this.bytes = bytes;
    this.readAs = readAs;
    this.writable = writable;
  }

  /** Bytes per element in the file. */
  public int bytes() {
    return bytes;
  }

  /** The ND4J type a tensor of this dtype is read as. */
  public DataType readAs() {
    return readAs;
  }

  /** Whether {@link Safetensors#write} can produce this dtype. */
  public boolean writable() {
    return writable;
  }

  /** The dtype of a safetensors header string, if known. */
  public static Optional<TensorDType> parse(String name) {
    for (TensorDType d : values()) {
      if (d.name().equals(name)) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  /** The safetensors dtype an ND4J array is written as. */
  public static TensorDType of(DataType type) {
    // In ND4J 1.0.0-M2.1 INT64 and INT32 are aliases of the deprecated enum constants LONG and INT.
    if (type == DataType.FLOAT) {
      return F32;
    } else if (type == DataType.DOUBLE) {
      return F64;
    } else if (type == DataType.INT64) {
      return I64;
    } else if (type == DataType.INT32) {
      return I32;
    }
    throw new IllegalArgumentException(
        "cannot write ND4J data type " + type + " to safetensors; expected FLOAT, DOUBLE, INT64 or INT32");
  }
}
