package io.github.nablagfn.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe file replacement: write a temporary file beside the target, flush it to disk, rename it over
 * the target, then flush the directory so the rename itself survives a power loss (on platforms where a
 * directory can be opened for that: Linux and macOS; Windows makes the rename durable itself).
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Replaces {@code file} by {@code bytes}; an interrupted write leaves the previous file (or none) under that name. */
  public static void write(Path file, byte[] bytes) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path tmp = Files.createTempFile(parent, "." + file.getFileName() + ".", ".tmp");
    try {
      FaultPoints.reach("temporary file created for " + file.getFileName());
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer buf = ByteBuffer.wrap(bytes, 0, bytes.length / 2);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        FaultPoints.reach("half of " + file.getFileName() + " written");
        buf = ByteBuffer.wrap(bytes, bytes.length / 2, bytes.length - bytes.length / 2);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        FaultPoints.reach("all of " + file.getFileName() + " written, not flushed");
        ch.force(true);
      }
      FaultPoints.reach("before renaming over " + file.getFileName());
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      FaultPoints.reach("renamed over " + file.getFileName() + ", directory not yet flushed");
      syncDirectory(parent);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Flushes a directory's entries (a rename, a new file) to disk. */
  static void syncDirectory(Path dir) throws IOException {
    if (System.getProperty("os.name", "").startsWith("Windows")) {
      return; // a directory cannot be opened as a channel there; NTFS journals the rename
    }
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /**
   * SHA-256 of a file as lower-case hex, read in 1 MiB blocks (memory does not grow with the file).
   * Checkpoint manifests and adapter metadata record it.
   */
  public static String sha256(Path file) throws IOException {
    java.security.MessageDigest md;
    try {
      md = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256, which every Java platform must provide", e);
    }
    byte[] block = new byte[1 << 20];
    try (java.io.InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(block)) > 0; ) {
        md.update(block, 0, n);
      }
    }
    return java.util.HexFormat.of().formatHex(md.digest());
  }
}
