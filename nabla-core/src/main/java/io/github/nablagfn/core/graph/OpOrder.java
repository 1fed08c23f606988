package io.github.nablagfn.core.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.ops.BaseOp;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.same.Identity;

/** The first step of compiling a graph into a {@link GraphPlan}: which ops it needs, in which order, and whether it can be planned. */
final class OpOrder {
  private OpOrder() {}

  /** Whether {@code sd} can be planned for {@code outputs}; null if so, else the reason. */
  static String supports(SameDiff sd, Collection<String> outputs) {
    for (SameDiffOp op : neededOps(sd, outputs)) {
      DifferentialFunction df = op.getOp();
      boolean plain = df instanceof Identity
          || (df instanceof DynamicCustomOp && !df.getClass().getName().contains(".controlflow.")
              && !df.getClass().getName().contains(".shape.tensorops.")
              && !df.getClass().getSimpleName().equals("Assign")
              && !df.getClass().getSimpleName().equals("CreateView")
              && !df.getClass().getSimpleName().equals("Invoke"))
          || (df instanceof BaseOp && !(df instanceof CustomOp));
      if (!plain) {
        return "op " + op.getName() + " (" + df.getClass().getSimpleName() + ")";
      }
      if (op.getControlDeps() != null && !op.getControlDeps().isEmpty()) {
        return "op " + op.getName() + " has control dependencies";
      }
    }
    return null;
  }

  /** The ops that {@code outputs} depend on, in an order where every op follows its inputs' producers. */
  static List<SameDiffOp> neededOps(SameDiff sd, Collection<String> outputs) {
    Map<String, SameDiffOp> needed = new LinkedHashMap<>();
    Deque<String> todo = new ArrayDeque<>(outputs);
    Map<String, Variable> vars = sd.getVariables();
    while (!todo.isEmpty()) {
      String v = todo.pop();
      Variable var = vars.get(v);
      if (var == null) {
        throw new IllegalArgumentException("no variable '" + v + "' in the graph");
      }
      String producer = var.getOutputOfOp();
      if (producer == null || needed.containsKey(producer)) {
        continue;
      }
      SameDiffOp op = sd.getOps().get(producer);
      needed.put(producer, op);
      if (op.getInputsToOp() != null) {
        todo.addAll(op.getInputsToOp());
      }
    }
    // Kahn's algorithm over the needed ops
    Map<String, Integer> pending = new HashMap<>();
    Map<String, List<String>> consumers = new HashMap<>();
    Deque<String> ready = new ArrayDeque<>();
    for (SameDiffOp op : needed.values()) {
      int n = 0;
      for (String in : op.getInputsToOp() == null ? List.<String>of() : new LinkedHashSet<>(op.getInputsToOp())) {
        String p = vars.get(in).getOutputOfOp();
        if (p != null && needed.containsKey(p)) {
          n++;
          consumers.computeIfAbsent(p, k -> new ArrayList<>()).add(op.getName());
        }
      }
      pending.put(op.getName(), n);
      if (n == 0) {
        ready.add(op.getName());
      }
    }
    List<SameDiffOp> order = new ArrayList<>();
    // walk in SameDiff's insertion order where possible, for reproducible plans
    List<String> insertion = new ArrayList<>(sd.getOps().keySet());
    Map<String, Integer> rank = new HashMap<>();
    for (int i = 0; i < insertion.size(); i++) {
      rank.put(insertion.get(i), i);
    }
    java.util.PriorityQueue<String> queue =
        new java.util.PriorityQueue<>((a, b) -> Integer.compare(rank.get(a), rank.get(b)));
    queue.addAll(ready);
    while (!queue.isEmpty()) {
      String name = queue.poll();
      order.add(needed.get(name));
      for (String c : consumers.getOrDefault(name, List.of())) {
        int left = pending.merge(c, -1, Integer::sum);
        if (left == 0) {
          queue.add(c);
        }
      }
    }
    if (order.size() != needed.size()) {
      throw new IllegalStateException("graph has a cycle among " + needed.size() + " ops");
    }
    return order;
  }
}
