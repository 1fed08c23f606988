package io.github.nablagfn.core.io;

import java.util.Optional;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Element types of the safetensors format that nabla reads. F32, F64, I64 and I32 are read and written
 * bit-exactly; F16 and BF16 are read and widened to float32 (exactly: every half value is a float).
 */
// ND4J 1.0.0-M2.1 types int64/int32 arrays as the deprecated LONG/INT constants (INT64/INT32 are aliases).
@SuppressWarnings("deprecation")
public enum TensorDType {
  F32(4, DataType.FLOAT, true),
  F64(8, DataType.DOUBLE, true),
  I64(8, DataType.LONG, true),
  I32(4, DataType.INT, true),
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
    switch (type) {
      case FLOAT:
        return F32;
      case DOUBLE:
        return F64;
      case LONG: // DataType.INT64 is an alias of LONG
        return I64;
      case INT: // DataType.INT32 is an alias of INT
        return I32;
      default:
        throw new IllegalArgumentException(
            "cannot write ND4J data type " + type + " to safetensors; expected FLOAT, DOUBLE, LONG or INT");
    }
  }
}
