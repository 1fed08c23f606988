package io.github.nablagfn.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exclusive lock on a directory a run writes (checkpoints, metrics), so that two processes never write
 * the same run: the file {@value #FILE_NAME} in the directory, locked with {@link FileChannel#tryLock()}
 * (an operating-system lock, released by the OS when the holder dies) and holding the holder's pid, host
 * and start time for the message a second process gets.
 *
 * <p>A lock file left by a process that died names a pid that no longer runs; the OS lock is gone with the
 * process, so it is taken over, with a warning naming the dead pid. Closing the lock empties the file and
 * releases the OS lock; the file itself stays (deleting it would race with a process opening it).
 */
public final class RunLock implements AutoCloseable {
  /** The lock file's name inside the locked directory. */
  public static final String FILE_NAME = "nabla.lock";
  private static final Logger LOG = LoggerFactory.getLogger(RunLock.class);

  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private RunLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /** Thrown when another process (or another part of this one) holds the lock. */
  public static final class HeldException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient OptionalLong holder;

    HeldException(String message, OptionalLong holder) {
      super(message);
      this.holder = holder;
    }

    /** The holder's pid, if the lock file names one. */
    public OptionalLong holder() {
      return holder;
    }
  }

  /**
   * Locks {@code dir} (created if missing) for this process.
   *
   * @throws HeldException naming the lock file and the holder's pid when another process holds it, or
   *     when this process already does (a second trainer or run on the same directory)
   */
  public static RunLock acquire(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(FILE_NAME);
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      String previous = read(ch);
      ch.close();
      throw new HeldException(file + " is already held by this process (pid " + ProcessHandle.current().pid()
          + "): another trainer or run in this JVM writes " + dir, pidOf(previous));
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      String previous = read(ch);
      ch.close();
      OptionalLong pid = pidOf(previous);
      throw new HeldException(file + " is held by process " + (pid.isPresent() ? pid.getAsLong() : "(unknown pid)")
          + describe(previous) + ", which is writing " + dir + "; wait for it to finish or stop it, or use another "
          + "directory", pid);
    }
    try {
      String previous = read(ch);
      OptionalLong pid = pidOf(previous);
      if (pid.isPresent() && pid.getAsLong() != ProcessHandle.current().pid()) {
        boolean alive = ProcessHandle.of(pid.getAsLong()).map(ProcessHandle::isAlive).orElse(false);
        LOG.warn("{}: taking over the lock of process {}{}", file, pid.getAsLong(),
            alive ? ", which no longer holds it (a pid reused since?)" : ", which is not running (it did not stop cleanly)");
      }
      byte[] mine = String.format(java.util.Locale.ROOT, "pid=%d%nhost=%s%nsince=%s%n", ProcessHandle.current().pid(),
          hostName(), Instant.now()).getBytes(StandardCharsets.UTF_8);
      ch.truncate(0);
      ByteBuffer buf = ByteBuffer.wrap(mine);
      while (buf.hasRemaining()) {
        ch.write(buf, buf.position());
      }
      ch.force(true);
    } catch (IOException | RuntimeException e) {
      lock.release();
      ch.close();
      throw e;
    }
    return new RunLock(file, ch, lock);
  }

  /** The lock file. */
  public Path file() {
    return file;
  }

  /** Empties the lock file and releases the lock. */
  @Override
  public void close() throws IOException {
    try {
      if (channel.isOpen()) {
        channel.truncate(0);
        channel.force(true);
      }
    } finally {
      try {
        if (lock.isValid()) {
          lock.release();
        }
      } finally {
        channel.close();
      }
    }
  }

  private static String read(FileChannel ch) throws IOException {
    long size = Math.min(ch.size(), 4096);
    ByteBuffer buf = ByteBuffer.allocate((int) size);
    while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
      // reads up to 4 KiB: a lock file is a few lines
    }
    return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
  }

  static OptionalLong pidOf(String content) {
    for (String line : content.split("\n")) {
      if (line.startsWith("pid=")) {
        try {
          return OptionalLong.of(Long.parseLong(line.substring(4).trim()));
        } catch (NumberFormatException e) {
          return OptionalLong.empty();
        }
      }
    }
    return OptionalLong.empty();
  }

  private static String describe(String content) {
    String host = null;
    String since = null;
    for (String line : content.split("\n")) {
      if (line.startsWith("host=")) {
        host = line.substring(5).trim();
      } else if (line.startsWith("since=")) {
        since = line.substring(6).trim();
      }
    }
    return (host != null ? " on " + host : "") + (since != null ? " since " + since : "");
  }

  /** The host name from the environment (no name lookup, which can stall for seconds). */
  private static String hostName() {
    String h = System.getenv("HOSTNAME");
    if (h == null || h.isBlank()) {
      h = System.getenv("COMPUTERNAME");
    }
    return h == null || h.isBlank() ? "unknown" : h.trim();
  }
}
