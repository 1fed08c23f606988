package io.github.nablagfn.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.train.FlowModel;
import io.github.nablagfn.core.train.NablaTrainer;
import io.github.nablagfn.core.train.Reference;
import io.github.nablagfn.core.train.TrainingHistory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The README's Java example: it compiles (it is this code), runs, and the README shows exactly it. */
class ReadmeExampleTest {
  @Test
  void theReadmeExampleRuns() {
    // README:start
    MlpDenoiser model = MlpDenoiser.create(MlpDenoiser.Config.of(2), Rng.of(1)); // your pretrained Denoiser
    NablaTrainer trainer = NablaTrainer.builder()
        .policy(model)                                    // fine-tuned in place
        .reference(Reference.frozenCopy())                // the prior to stay close to
        .flow(FlowModel.of(MlpDenoiser.create(MlpDenoiser.Config.of(2).withZeroOutput(), Rng.of(2))))
        .sampler(Ddim.of(NoiseSchedule.ddpmDefault(), 50))
        .reward(new LinearReward(new double[] {1, 0}).scaled(2.0))   // target ∝ p_ref(x)·exp(2·x₁)
        .objective(Objectives.residualNablaDb())
        .batchSize(16).seed(42)
        .build();
    TrainingHistory history = trainer.fit(20);
    System.out.println(history.last());
    // README:end
    assertThat(history.size()).isEqualTo(20);
    assertThat(history.last().loss()).isFinite();
  }

  @Test
  void theReadmeShowsThisExample() throws Exception {
    String source = Files.readString(Path.of("src/test/java/io/github/nablagfn/examples/ReadmeExampleTest.java"));
    String between = source.substring(source.indexOf("// README:start") + "// README:start".length(),
        source.indexOf("    // README:end"));
    String code = between.lines().skip(1).map(l -> l.length() >= 4 ? l.substring(4) : l)
        .collect(Collectors.joining("\n"));
    Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(Path.of("../README.md")));
    assertThat(m.find()).as("a ```java block in README.md").isTrue();
    assertThat(m.group(1).strip()).isEqualTo(code.strip());
  }
}
