package io.github.nablagfn.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import io.github.nablagfn.core.io.AtomicFiles;
import io.github.nablagfn.core.train.JsonlListener;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run directory's metric files, in one schema (snake_case keys, written by Jackson; docs/metrics.md):
 * {@code metrics.jsonl} (one line per iteration, by the trainer's {@link JsonlListener}), {@code eval.jsonl}
 * (one {@link EvalRecord} per evaluation), and their CSV copies {@code metrics.csv} and {@code eval.csv}
 * (header row, the same columns in the same order).
 */
final class MetricsFiles {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsFiles.class);
  private static final ObjectMapper JSON = JsonlListener.mapper();

  private MetricsFiles() {}

  /** Appends one evaluation to {@code eval.jsonl}, flushed. */
  static void appendEval(Path file, EvalRecord e) throws IOException {
    Files.writeString(file, JSON.writeValueAsString(e) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  /**
   * The evaluations of an {@code eval.jsonl} (none if the file is missing). A last line cut short by an
   * interrupted write is removed from the file (replaced atomically, so the next append starts a fresh
   * line) with a warning; a broken line elsewhere is an error naming it.
   */
  static List<EvalRecord> readEvals(Path file) throws IOException {
    List<EvalRecord> rows = new ArrayList<>();
    if (!Files.exists(file)) {
      return rows;
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      try {
        rows.add(JSON.readValue(line, EvalRecord.class));
      } catch (IOException e) {
        if (i == lines.size() - 1) {
          LOG.warn("{}: removing its last line, cut short by an interrupted write: {}", file, line);
          StringBuilder kept = new StringBuilder();
          for (EvalRecord r : rows) {
            kept.append(JSON.writeValueAsString(r)).append('\n');
          }
          AtomicFiles.write(file, kept.toString().getBytes(StandardCharsets.UTF_8));
          continue;
        }
        throw new IOException(file + " line " + (i + 1) + " is not an evaluation record: " + e.getMessage(), e);
      }
    }
    return rows;
  }

  /**
   * Writes {@code csv} with the JSON objects of {@code jsonl} as rows: a header of the first object's keys,
   * then one row per line (a torn last line is left out). Replaced atomically.
   */
  static void toCsv(Path jsonl, Path csv) throws IOException {
    if (!Files.exists(jsonl)) {
      return;
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    List<String> lines = Files.readAllLines(jsonl, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) {
        continue;
      }
      JsonNode n;
      try {
        n = JSON.readTree(lines.get(i));
      } catch (IOException e) {
        if (i == lines.size() - 1) {
          continue;
        }
        throw new IOException(jsonl + " line " + (i + 1) + " is not JSON: " + e.getMessage(), e);
      }
      Map<String, Object> row = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> f = n.fields(); f.hasNext(); ) {
        Map.Entry<String, JsonNode> e = f.next();
        row.put(e.getKey(), e.getValue().isNumber() || e.getValue().isBoolean() ? e.getValue() : e.getValue().asText());
      }
      rows.add(row);
    }
    if (rows.isEmpty()) {
      return;
    }
    CsvSchema.Builder schema = CsvSchema.builder().setUseHeader(true);
    rows.get(0).keySet().forEach(schema::addColumn);
    StringWriter out = new StringWriter();
    new CsvMapper().writer(schema.build()).writeValues(out).writeAll(rows).close();
    AtomicFiles.write(csv, out.toString().getBytes(StandardCharsets.UTF_8));
  }
}
