package io.github.nablagfn.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The shipped fixtures are the files their README lists, byte for byte (SHA-256). */
class TwinFixturesTest {
  private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| (\\d+) \\|.*\\| `([0-9a-f]{64})` \\|$",
      Pattern.MULTILINE);

  @Test
  void everyFixtureMatchesTheDigestItsReadmeRecords() throws IOException, NoSuchAlgorithmException {
    String readme = Files.readString(TwinFixtures.dir().resolve("README.md"), StandardCharsets.UTF_8);
    Map<String, String[]> listed = new LinkedHashMap<>();
    Matcher m = ROW.matcher(readme);
    while (m.find()) {
      listed.put(m.group(1), new String[] {m.group(2), m.group(3)});
    }
    assertThat(listed.keySet()).as("files the README lists").containsExactlyInAnyOrderElementsOf(TwinFixtures.FILES);
    for (Map.Entry<String, String[]> e : listed.entrySet()) {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      long size;
      try (InputStream in = new DigestInputStream(Files.newInputStream(TwinFixtures.dir().resolve(e.getKey())), sha)) {
        size = in.transferTo(java.io.OutputStream.nullOutputStream());
      }
      assertThat(size).as(e.getKey() + " size").isEqualTo(Long.parseLong(e.getValue()[0]));
      assertThat(HexFormat.of().formatHex(sha.digest())).as(e.getKey() + " SHA-256").isEqualTo(e.getValue()[1]);
    }
  }
}
