package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checkpoint checksum, computed block by block, against the FIPS 180-2 test vectors and a one-shot digest. */
class ChecksumTest {
  @TempDir Path dir;

  @Test
  void blockwiseSha256MatchesTheStandardVectorsAndAOneShotDigest() throws Exception {
    Path empty = Files.write(dir.resolve("empty"), new byte[0]);
    assertThat(Checkpoints.sha256(empty)).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    Path abc = Files.write(dir.resolve("abc"), "abc".getBytes(StandardCharsets.US_ASCII));
    assertThat(Checkpoints.sha256(abc)).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // 2.5 MiB + 3 bytes: two full 1 MiB blocks and a partial one
    byte[] big = new byte[(5 << 19) + 3];
    new java.util.Random(7).nextBytes(big);
    Path file = Files.write(dir.resolve("big"), big);
    String oneShot = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(big));
    assertThat(Checkpoints.sha256(file)).isEqualTo(oneShot);
  }
}
