package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Named loss terms and the flat JSON of an iteration record. */
class IterationRecordTest {
  private static final IterationRecord DDPO = new IterationRecord(3, LossTerms.of("surrogate", -0.25),
      LossTerms.of("ratio_deviation", 0.01, "clipped_fraction", 0.5), -0.25, 1.5, 0.2, 3.0, 0.0, true, 12.0);

  @Test
  void termsAddByNameKeepTheirOrderAndSumToTheLoss() {
    LossTerms a = LossTerms.of("forward_balance", 1.0, "backward_balance", 2.0);
    LossTerms b = LossTerms.of("backward_balance", 0.5, "terminal", 4.0);
    LossTerms sum = a.plus(b);
    assertThat(sum.names()).containsExactly("forward_balance", "backward_balance", "terminal");
    assertThat(sum.get("backward_balance")).isEqualTo(2.5);
    assertThat(sum.total()).isEqualTo(7.5);
    assertThat(a.times(2).get("forward_balance")).isEqualTo(2.0);
    assertThat(LossTerms.none().plus(a)).isEqualTo(a);
    assertThat(LossTerms.of("surrogate", Double.NaN, "x", Double.POSITIVE_INFINITY).firstNonFinite())
        .contains("surrogate");
    assertThat(a.firstNonFinite()).isEmpty();
  }

  @Test
  void badTermsAreRefusedNamingTheProblem() {
    assertThatThrownBy(() -> LossTerms.of("Forward", 1.0)).hasMessageContaining("'Forward'")
        .hasMessageContaining("snake_case");
    assertThatThrownBy(() -> LossTerms.of("a", 1.0, "a", 2.0)).hasMessageContaining("'a' given twice");
    assertThatThrownBy(() -> LossTerms.of("a")).hasMessageContaining("name, value pairs");
    assertThatThrownBy(() -> LossTerms.of("a", "b")).hasMessageContaining("a number");
    assertThatThrownBy(() -> DDPO.term("forward_balance")).hasMessageContaining("no term 'forward_balance'")
        .hasMessageContaining("[surrogate]");
  }

  @Test
  void jsonIsOneFlatObjectAndReadsBack() throws Exception {
    for (ObjectMapper mapper : new ObjectMapper[] {new ObjectMapper(), JsonlListener.mapper()}) {
      String json = mapper.writeValueAsString(DDPO);
      assertThat(mapper.readTree(json).fieldNames()).toIterable().containsExactly("iteration", "loss_surrogate",
          "loss", "ratio_deviation", "clipped_fraction", "reward_mean", "reward_std", "grad_norm_policy",
          "grad_norm_flow", "applied", "wall_millis");
      assertThat(mapper.readValue(json, IterationRecord.class)).isEqualTo(DDPO);
    }
    IterationRecord nan = new IterationRecord(0, LossTerms.of("reward", Double.NaN), LossTerms.none(), Double.NaN,
        0, 0, Double.POSITIVE_INFINITY, 0, false, 1);
    ObjectMapper m = new ObjectMapper();
    assertThat(m.readValue(m.writeValueAsString(nan), IterationRecord.class)).isEqualTo(nan);
  }

  /** A checkpoint history from before the named terms (camelCase components) reads with the ∇-DB names. */
  @Test
  void aHistoryFromBeforeTheNamedTermsIsRead() {
    Map<String, Object> legacy = new java.util.LinkedHashMap<>();
    legacy.put("iteration", 7);
    legacy.put("lossForward", 0.5);
    legacy.put("lossBackward", 0.25);
    legacy.put("lossTerminal", 0.0);
    legacy.put("lossRegulariser", 0.125);
    legacy.put("loss", 0.875);
    legacy.put("rewardMean", 1.0);
    legacy.put("rewardStd", 0.1);
    legacy.put("gradNormPolicy", 2.0);
    legacy.put("gradNormFlow", 3.0);
    legacy.put("applied", true);
    legacy.put("wallMillis", 9.0);
    IterationRecord r = IterationRecord.fromJson(legacy);
    assertThat(r.terms()).isEqualTo(LossTerms.of("forward_balance", 0.5, "backward_balance", 0.25, "terminal", 0.0,
        "regulariser", 0.125));
    assertThat(r.iteration()).isEqualTo(7);
    assertThat(r.gradNormFlow()).isEqualTo(3.0);
  }

  @Test
  void aMissingOrMalformedKeyIsNamed() {
    Map<String, Object> json = new java.util.LinkedHashMap<>(DDPO.toJson());
    json.remove("reward_mean");
    assertThatThrownBy(() -> IterationRecord.fromJson(json)).hasMessageContaining("'reward_mean' is missing");
    json.put("reward_mean", "many");
    assertThatThrownBy(() -> IterationRecord.fromJson(json)).hasMessageContaining("'reward_mean' is 'many'");
  }
}
