package io.github.nablagfn.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** compare's methods with settings, its choice of setting, its diverged table and its matched-reward levels. */
class CompareTest {
  /** One seed's evaluations at iterations 0 and 10: base (reward −1, diversity 0.04), then the given end. */
  private static List<EvalRecord> run(double reward, double diversity, double fid) {
    return List.of(new EvalRecord(0, -1.0, 0.8, 0.04, 0), new EvalRecord(10, reward, 0.9, diversity, fid));
  }

  @Test
  void aMethodCarriesItsOwnSettingsOverTheCommonOnes() {
    Compare.Method m = Compare.Method.parse("ddpo@lr=3e-4@ddpo-clip=0.001");
    assertThat(m.objective()).isEqualTo("ddpo");
    RunSettings base = new RunSettings();
    base.beta = 30;
    RunSettings s = m.settings(base);
    assertThat(s.objective).isEqualTo("ddpo");
    assertThat(s.lr).isEqualTo(3e-4);
    assertThat(s.ddpoClip).isEqualTo(1e-3);
    assertThat(s.beta).isEqualTo(30.0);
    assertThat(base.lr).as("the common settings are not changed").isEqualTo(new RunSettings().lr);
    assertThat(Compare.Method.parse("refl").settings(base).lr).isEqualTo(base.lr);
  }

  @Test
  void badMethodsAreRefusedNamingWhatIsWrong() {
    assertThatThrownBy(() -> Compare.Method.parse("reflx")).hasMessageContaining("'reflx'")
        .hasMessageContaining("expected one of");
    assertThatThrownBy(() -> Compare.Method.parse("refl@lr")).hasMessageContaining("'lr'")
        .hasMessageContaining("key=value");
    assertThatThrownBy(() -> Compare.Method.parse("refl@seed=3")).hasMessageContaining("'seed'");
    assertThatThrownBy(() -> Compare.Method.parse("refl@learning-rate=3").settings(new RunSettings()))
        .hasMessageContaining("unknown setting 'learning-rate'");
    assertThatThrownBy(() -> Compare.Method.parse("refl@lr=fast").settings(new RunSettings()))
        .hasMessageContaining("'lr' has a wrong value");
  }

  @Test
  void theChosenSettingHasTheHighestRewardAmongThoseKeepingTheDiversity() {
    List<Compare.Method> methods = List.of(Compare.Method.parse("refl@lr=1e-4"), Compare.Method.parse("refl@lr=1e-3"),
        Compare.Method.parse("refl@lr=1e-2"), Compare.Method.parse("ddpo@lr=1e-3"), Compare.Method.parse("ddpo@lr=1e-2"));
    Map<String, List<List<EvalRecord>>> results = new LinkedHashMap<>();
    results.put("refl@lr=1e-4", List.of(run(-0.9, 0.04, 5)));
    results.put("refl@lr=1e-3", List.of(run(-0.5, 0.033, 20))); // keeps 0.825x: chosen
    results.put("refl@lr=1e-2", List.of(run(-0.1, 0.02, 200))); // higher reward, keeps 0.5x
    results.put("ddpo@lr=1e-3", List.of(run(-0.8, 0.01, 50))); // neither keeps 0.8x: the one keeping most
    results.put("ddpo@lr=1e-2", List.of(run(-0.2, 0.005, 60)));
    Map<String, String> chosen = Compare.select(methods, results);
    assertThat(chosen).containsExactly(Map.entry("refl", "refl@lr=1e-3"), Map.entry("ddpo", "ddpo@lr=1e-3"));
    assertThat(Compare.sweepTable(methods, results, chosen)).contains("| refl@lr=1e-3 | -0.5000 ± 0.0 | 0.9000 ± 0.0 | "
        + "0.0330 (0.83x) | 20.00 ± 0.0 | yes |");
  }

  @Test
  void divergedRunsAreTabledApartAndLeftOutOfTheMatchedReward() {
    Map<String, List<List<EvalRecord>>> results = new LinkedHashMap<>();
    results.put("a", List.of(run(-0.6, 0.04, 10), run(-0.4, 0.04, 12))); // seed mean −0.5
    results.put("b", List.of(run(-0.2, 0.03, 30)));
    results.put("c", List.of(run(-0.3, 0.03, 40)));
    results.put("blown", List.of(run(-2000, 0.01, 5e7)));
    Map<String, double[]> seconds = Map.of("a", new double[] {1, 1}, "b", new double[] {1}, "c", new double[] {1},
        "blown", new double[] {1});
    RunSettings s = new RunSettings();
    String summary = Compare.summary(s, results, seconds);
    assertThat(Compare.diverged(results.get("blown"))).isTrue();
    assertThat(Compare.diverged(results.get("b"))).isFalse();
    int divergedAt = summary.indexOf("Diverged");
    assertThat(divergedAt).isPositive();
    assertThat(summary.indexOf("| blown |")).isGreaterThan(divergedAt);
    assertThat(summary.indexOf("| b |")).isLessThan(divergedAt);
    // levels: the lowest final reward among the improving methods (−0.5) and their median (−0.3)
    assertThat(summary).contains("r1 = -0.5000").contains("r2 = -0.3000");
    String atR2 = summary.substring(summary.indexOf("r2 = "));
    assertThat(atR2).contains("| a | not reached |").contains("| b | 10 |").doesNotContain("| blown |");
  }
}
