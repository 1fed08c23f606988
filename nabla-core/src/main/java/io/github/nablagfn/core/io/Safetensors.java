package io.github.nablagfn.core.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reader and writer of the safetensors format: an unsigned 64-bit little-endian header length N, N
 * bytes of UTF-8 JSON {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
 * {string: string}}}, then the raw little-endian tensor bytes, offsets relative to the end of the
 * header.
 *
 * <p>Files are treated as untrusted. The reader rejects, with a {@link SafetensorsException} naming
 * the file, the tensor and the problem: a file shorter than its declared header, a header over
 * {@value #MAX_HEADER_BYTES} bytes, JSON that is not an object of well-formed entries, duplicate names,
 * an unknown dtype, negative or overflowing shapes, offsets out of range, overlapping or leaving holes,
 * and a byte range whose size does not match shape × dtype. Nothing is allocated from a declared size
 * before it has been checked against the file's real length.
 *
 * <p>The writer orders tensors by name, pads the header with spaces to a multiple of 8 (as the
 * reference implementation does) and writes to a temporary file that is then renamed over the
 * target, so an interrupted write never leaves a partial file under the target name.
 */
public final class Safetensors {
  /** Largest header accepted (the reference implementation's limit). */
  public static final int MAX_HEADER_BYTES = 100_000_000;

  private static final String METADATA = "__metadata__";
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private Safetensors() {}

  /** The tensors of a file, in the order of their data offsets, and its metadata. */
  public record Contents(Map<String, INDArray> tensors, Map<String, String> metadata) {
    public Contents {
      tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
      metadata = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** The tensor called {@code name}; throws naming the missing tensor and what the file holds. */
    public INDArray get(String name) {
      INDArray a = tensors.get(name);
      if (a == null) {
        throw new IllegalArgumentException("no tensor '" + name + "'; the file holds " + tensors.keySet());
      }
      return a;
    }
  }

  private record Entry(String name, TensorDType dtype, long[] shape, long begin, long end) {}

  /** Reads a whole file. */
  public static Contents read(Path file) throws IOException {
    long size;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      size = ch.size();
      if (size < 8) {
        throw error(file, "file is " + size + " bytes, shorter than the 8-byte header length");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0, file);
      long headerLen = lenBuf.flip().getLong();
      if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
        throw error(file, "declared header length " + Long.toUnsignedString(headerLen)
            + " is outside 2.." + MAX_HEADER_BYTES + " bytes");
      }
      if (headerLen > size - 8) {
        throw error(file, "truncated: header declares " + headerLen + " bytes but only " + (size - 8)
            + " follow the length field");
      }
      ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
      readFully(ch, headerBuf, 8, file);
      String header;
      try {
        header = StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
            .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT).decode(headerBuf.flip()).toString();
      } catch (java.nio.charset.CharacterCodingException e) {
        throw error(file, "header is not valid UTF-8 (" + e.getMessage() + "): tensor names and metadata must be UTF-8");
      }
      long dataStart = 8 + headerLen;
      long dataLen = size - dataStart;
      Map<String, String> metadata = new LinkedHashMap<>();
      List<Entry> entries = parseHeader(file, header, dataLen, metadata);
      // tensor by tensor: the heap holds one tensor's bytes and its values at a time (not the whole file),
      // so files above 2 GB load when each tensor fits a Java array and the heap
      Map<String, INDArray> tensors = new LinkedHashMap<>();
      for (Entry e : entries) {
        long bytes = e.end() - e.begin();
        if (bytes > Integer.MAX_VALUE - 8) {
          throw error(file, "tensor '" + e.name() + "' has " + bytes + " bytes; tensors above 2 GB are not supported");
        }
        long heapBytes = bytes + (e.dtype().bytes() == 2 ? 2 * bytes : bytes); // the raw bytes and the values
        long maxHeap = Runtime.getRuntime().maxMemory();
        if (heapBytes > maxHeap) {
          throw error(file, "tensor '" + e.name() + "' needs " + heapBytes + " bytes of heap to load, more than "
              + "this JVM's maximum heap of " + maxHeap + " bytes (-Xmx)");
        }
        try {
          ByteBuffer raw = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
          readFully(ch, raw, dataStart + e.begin(), file);
          tensors.put(e.name(), decode(new Entry(e.name(), e.dtype(), e.shape(), 0, bytes), raw.flip()));
        } catch (OutOfMemoryError oom) {
          throw error(file, "not enough heap to load tensor '" + e.name() + "' (" + heapBytes + " bytes; maximum heap "
              + maxHeap + " bytes, -Xmx)");
        }
      }
      return new Contents(tensors, metadata);
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw error(file, "truncated: unexpected end of file at byte " + pos);
      }
      pos += n;
    }
  }

  private static List<Entry> parseHeader(Path file, String header, long dataLen, Map<String, String> metadata)
      throws SafetensorsException {
    JsonNode root;
    try {
      root = JSON.readTree(header);
    } catch (JsonProcessingException e) {
      throw error(file, "header is not valid JSON (" + e.getOriginalMessage() + ")");
    }
    if (root == null || !root.isObject()) {
      throw error(file, "header is not a JSON object");
    }
    List<Entry> entries = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      String name = f.getKey();
      JsonNode node = f.getValue();
      if (name.isEmpty()) {
        throw error(file, "a tensor has an empty name; expected a non-empty name per tensor");
      }
      if (name.equals(METADATA)) {
        if (!node.isObject()) {
          throw error(file, "__metadata__ is not an object of strings");
        }
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
          Map.Entry<String, JsonNode> m = it.next();
          if (!m.getValue().isTextual()) {
            throw error(file, "__metadata__ value of '" + m.getKey() + "' is not a string");
          }
          metadata.put(m.getKey(), m.getValue().textValue());
        }
        continue;
      }
      entries.add(parseEntry(file, name, node));
    }
    // Offsets must tile [0, dataLen) exactly: no overlaps, no holes, nothing out of range.
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long expected = 0;
    for (Entry e : entries) {
      if (e.end() > dataLen) {
        throw error(file, "tensor '" + e.name() + "': data_offsets [" + e.begin() + ", " + e.end()
            + "] reach beyond the " + dataLen + "-byte data section (truncated file?)");
      }
      if (e.begin() < expected) {
        throw error(file, "tensor '" + e.name() + "': data_offsets [" + e.begin() + ", " + e.end()
            + "] overlap the previous tensor, which ends at " + expected);
      }
      if (e.begin() > expected) {
        throw error(file, "tensor '" + e.name() + "': data_offsets start at " + e.begin()
            + " leaving a hole after byte " + expected);
      }
      expected = e.end();
    }
    if (expected != dataLen) {
      throw error(file, "data section has " + dataLen + " bytes but the tensors cover " + expected);
    }
    return entries;
  }

  private static Entry parseEntry(Path file, String name, JsonNode node) throws SafetensorsException {
    if (!node.isObject()) {
      throw error(file, "tensor '" + name + "': entry is not an object");
    }
    JsonNode dtypeNode = node.get("dtype");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw error(file, "tensor '" + name + "': missing or non-string dtype");
    }
    TensorDType dtype = TensorDType.parse(dtypeNode.textValue()).orElseThrow(() -> error(file,
        "tensor '" + name + "': unknown dtype '" + dtypeNode.textValue() + "'; expected one of "
            + Arrays.toString(TensorDType.values())));
    JsonNode shapeNode = node.get("shape");
    if (shapeNode == null || !shapeNode.isArray()) {
      throw error(file, "tensor '" + name + "': missing or non-array shape");
    }
    long[] shape = new long[shapeNode.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
        throw error(file, "tensor '" + name + "': shape " + shapeNode + " has a dimension that is not a"
            + " non-negative integer");
      }
      shape[i] = d.longValue();
      try {
        numel = Math.multiplyExact(numel, shape[i]);
      } catch (ArithmeticException ex) {
        throw error(file, "tensor '" + name + "': shape " + shapeNode + " overflows 64 bits");
      }
    }
    JsonNode off = node.get("data_offsets");
    if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
        || !off.get(1).isIntegralNumber() || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
      throw error(file, "tensor '" + name + "': data_offsets must be two integers [begin, end]");
    }
    long begin = off.get(0).longValue();
    long end = off.get(1).longValue();
    if (begin < 0 || end < begin) {
      throw error(file, "tensor '" + name + "': data_offsets [" + begin + ", " + end
          + "] are not 0 <= begin <= end");
    }
    long bytes;
    try {
      bytes = Math.multiplyExact(numel, (long) dtype.bytes());
    } catch (ArithmeticException ex) {
      throw error(file, "tensor '" + name + "': shape " + shapeNode + " overflows 64 bits");
    }
    if (end - begin != bytes) {
      throw error(file, "tensor '" + name + "': " + dtype + " shape " + Arrays.toString(shape) + " needs "
          + bytes + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
    }
    if (numel > Integer.MAX_VALUE) {
      throw error(file, "tensor '" + name + "': " + numel + " elements exceed the 2^31-1 supported");
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  private static INDArray decode(Entry e, ByteBuffer data) {
    int n = Math.toIntExact((e.end() - e.begin()) / e.dtype().bytes());
    ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    b.position((int) e.begin()).limit((int) e.end());
    ByteBuffer slice = b.slice().order(ByteOrder.LITTLE_ENDIAN);
    INDArray flat = decodeFlat(e.dtype(), slice, n);
    return e.shape().length == 0 ? flat.reshape() : flat.reshape('c', e.shape());
  }

  private static INDArray decodeFlat(TensorDType dtype, ByteBuffer slice, int n) {
    long[] shape = {n};
    switch (dtype) {
      case F32: {
        float[] v = new float[n];
        slice.asFloatBuffer().get(v);
        return Nd4j.create(v, shape, DataType.FLOAT);
      }
      case F64: {
        double[] v = new double[n];
        slice.asDoubleBuffer().get(v);
        return Nd4j.create(v, shape, DataType.DOUBLE);
      }
      case I64: {
        long[] v = new long[n];
        slice.asLongBuffer().get(v);
        return Nd4j.createFromArray(v);
      }
      case I32: {
        int[] v = new int[n];
        slice.asIntBuffer().get(v);
        return Nd4j.createFromArray(v);
      }
      case F16: {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = halfToFloat(slice.getShort(2 * i));
        }
        return Nd4j.create(v, shape, DataType.FLOAT);
      }
      case BF16: {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = Float.intBitsToFloat((slice.getShort(2 * i) & 0xFFFF) << 16);
        }
        return Nd4j.create(v, shape, DataType.FLOAT);
      }
      default:
        throw new IllegalStateException("unhandled dtype " + dtype);
    }
  }

  /** IEEE 754 binary16 to float32, exact (subnormals, infinities and NaN included). */
  static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** Writes tensors (FLOAT, DOUBLE, INT64 or INT32 arrays) without metadata. */
  public static void write(Path file, Map<String, INDArray> tensors) throws IOException {
    write(file, tensors, Map.of());
  }

  /**
   * Writes tensors and string metadata atomically: to a temporary file in the same directory, then
   * renamed over {@code file}.
   */
  public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata)
      throws IOException {
    AtomicFiles.write(file, encode(tensors, metadata));
  }

  /** The bytes of a safetensors file holding {@code tensors} and {@code metadata}. */
  public static byte[] encode(Map<String, INDArray> tensors, Map<String, String> metadata) {
    for (Map.Entry<String, String> m : metadata.entrySet()) {
      if (m.getKey() == null || m.getValue() == null) {
        throw new IllegalArgumentException("metadata keys and values must not be null: " + m);
      }
    }
    Map<String, INDArray> sorted = new TreeMap<>(tensors);
    ObjectNode header = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject(METADATA);
      metadata.forEach(meta::put);
    }
    long offset = 0;
    List<byte[]> payloads = new ArrayList<>();
    for (Map.Entry<String, INDArray> t : sorted.entrySet()) {
      String name = t.getKey();
      if (name.isEmpty()) {
        throw new IllegalArgumentException("a tensor has an empty name; expected a non-empty name per tensor");
      }
      if (!StandardCharsets.UTF_8.newEncoder().canEncode(name)) {
        throw new IllegalArgumentException("tensor name '" + name + "' is not valid Unicode (an unpaired surrogate?)");
      }
      if (name.equals(METADATA)) {
        throw new IllegalArgumentException("a tensor may not be called " + METADATA);
      }
      INDArray a = t.getValue();
      TensorDType dtype;
      try {
        dtype = TensorDType.of(a.dataType());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("tensor '" + name + "': " + e.getMessage(), e);
      }
      byte[] payload = toBytes(a, dtype);
      ObjectNode entry = header.putObject(name);
      entry.put("dtype", dtype.name());
      ArrayNode shape = entry.putArray("shape");
      for (long d : a.shape()) {
        shape.add(d);
      }
      ArrayNode off = entry.putArray("data_offsets");
      off.add(offset);
      off.add(offset + payload.length);
      offset += payload.length;
      payloads.add(payload);
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(header);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("could not encode safetensors header", e);
    }
    int padded = (json.length + 7) / 8 * 8;
    long total = 8L + padded + offset;
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("safetensors file of " + total + " bytes is too large to encode in memory");
    }
    ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(padded);
    out.put(json);
    for (int i = json.length; i < padded; i++) {
      out.put((byte) ' ');
    }
    for (byte[] p : payloads) {
      out.put(p);
    }
    return out.array();
  }

  private static byte[] toBytes(INDArray a, TensorDType dtype) {
    INDArray c = a.isView() || a.ordering() != 'c' ? a.dup('c') : a;
    long n = c.length();
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * dtype.bytes())).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case F32:
        b.asFloatBuffer().put(c.data().asFloat(), 0, (int) n);
        break;
      case F64:
        b.asDoubleBuffer().put(c.data().asDouble(), 0, (int) n);
        break;
      case I64:
        b.asLongBuffer().put(c.data().asLong(), 0, (int) n);
        break;
      case I32:
        b.asIntBuffer().put(c.data().asInt(), 0, (int) n);
        break;
      default:
        throw new IllegalStateException("not writable: " + dtype);
    }
    return b.array();
  }

  private static SafetensorsException error(Path file, String problem) {
    return new SafetensorsException(file + ": " + problem);
  }
}
