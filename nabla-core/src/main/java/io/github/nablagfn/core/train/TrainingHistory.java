package io.github.nablagfn.core.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The records of every iteration of a run, in order (including iterations restored from a checkpoint). */
public final class TrainingHistory {
  private final List<IterationRecord> records = new ArrayList<>();

  void add(IterationRecord r) {
    records.add(r);
  }

  void clear() {
    records.clear();
  }

  public List<IterationRecord> records() {
    return Collections.unmodifiableList(records);
  }

  public int size() {
    return records.size();
  }

  public IterationRecord last() {
    if (records.isEmpty()) {
      throw new IllegalStateException("no iterations yet");
    }
    return records.get(records.size() - 1);
  }

  /** Iterations skipped because of a non-finite loss or gradient. */
  public long skipped() {
    return records.stream().filter(r -> !r.applied()).count();
  }
}
