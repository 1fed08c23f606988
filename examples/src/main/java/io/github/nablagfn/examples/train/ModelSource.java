package io.github.nablagfn.examples.train;

import io.github.nablagfn.core.io.AtomicFiles;
import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.diffusion.lora.LoraDenoiser;
import io.github.nablagfn.diffusion.lora.PeftAdapters;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where the command line finds a small U-Net: a weights file, an adapter directory or a run directory.
 *
 * <ul>
 *   <li>a safetensors file of U-Net weights (the shipped model, a pretraining output; a name prefix
 *       selects e.g. the {@code ema.} weights of a pretraining checkpoint);
 *   <li>an adapter directory in the PEFT layout ({@code adapter_config.json}, see {@link PeftAdapters}):
 *       its {@code base_model_name_or_path} names the base weights ({@value #SHIPPED} for the shipped
 *       model, otherwise a path, relative to the adapter directory when not absolute), whose SHA-256 is
 *       checked against {@value #BASE_SHA256} when the adapter records it; the adapters are merged in;
 *   <li>a run directory of {@code nabla finetune}, which holds its adapter in {@code adapter/}, or, for a
 *       run without LoRA, its fine-tuned weights in {@code model.safetensors}.
 * </ul>
 */
public final class ModelSource {
  /** The base model reference a run writes when it fine-tuned the shipped digit model. */
  public static final String SHIPPED = "nabla:shipped/unet-mnist";
  /** Classpath resource of the shipped digit model. */
  public static final String SHIPPED_RESOURCE = "/weights/unet-mnist.safetensors";
  /** Safetensors metadata key holding the SHA-256 of the base weights file an adapter was trained on. */
  public static final String BASE_SHA256 = "nabla.base_sha256";
  /** The adapter's directory inside a run directory. */
  public static final String RUN_ADAPTER_DIR = "adapter";
  /** The fine-tuned weights of a run without LoRA, inside its run directory. */
  public static final String RUN_MODEL_FILE = "model.safetensors";

  private ModelSource() {}

  /**
   * The small U-Net at {@code path} (a file, an adapter directory or a run directory), adapters merged.
   *
   * @param prefix for a weights file: only tensors whose names start with it, prefix removed ("" for all)
   * @throws IOException naming the path and what was expected when it is none of the three
   */
  public static UNet load(Path path, String prefix) throws IOException {
    if (Files.isRegularFile(path)) {
      UNet unet = UNet.create(UNetConfig.small(), Rng.of(0));
      unet.parameters().load(Resources.tensors(path, prefix), false);
      return unet;
    }
    if (!Files.isDirectory(path)) {
      throw new IOException(path + " does not exist; expected a weights file (.safetensors), an adapter directory "
          + "(with " + PeftAdapters.CONFIG_FILE + ") or a run directory");
    }
    if (PeftAdapters.isAdapterDir(path)) {
      return fromAdapter(path);
    }
    Path adapter = path.resolve(RUN_ADAPTER_DIR);
    if (PeftAdapters.isAdapterDir(adapter)) {
      return fromAdapter(adapter);
    }
    if (Files.isRegularFile(path.resolve(RUN_MODEL_FILE))) {
      return load(path.resolve(RUN_MODEL_FILE), "");
    }
    throw new IOException(path + " is a directory without " + PeftAdapters.CONFIG_FILE + ", "
        + RUN_ADAPTER_DIR + "/" + PeftAdapters.CONFIG_FILE + " or " + RUN_MODEL_FILE
        + "; expected an adapter directory or a finished (or checkpointed) run directory");
  }

  /** The base weights an adapter directory names, as a file (the shipped model is copied out). */
  public static Path baseOf(Path adapterDir) throws IOException {
    String base = PeftAdapters.readConfig(adapterDir).baseModel();
    if (base == null || base.isBlank()) {
      throw new IOException(adapterDir.resolve(PeftAdapters.CONFIG_FILE)
          + ": base_model_name_or_path is missing; expected the base weights' path or " + SHIPPED);
    }
    if (base.equals(SHIPPED)) {
      return Resources.copy(SHIPPED_RESOURCE, null);
    }
    Path file = adapterDir.resolve(base); // an absolute path stays as it is
    if (!Files.isRegularFile(file)) {
      throw new IOException(adapterDir.resolve(PeftAdapters.CONFIG_FILE) + ": base model " + base + " not found (looked at "
          + file + ")");
    }
    return file;
  }

  private static UNet fromAdapter(Path adapterDir) throws IOException {
    Path baseFile = baseOf(adapterDir);
    String recorded = Safetensors.read(adapterDir.resolve(PeftAdapters.WEIGHTS_FILE)).metadata().get(BASE_SHA256);
    if (recorded != null) {
      String actual = AtomicFiles.sha256(baseFile);
      if (!actual.equals(recorded)) {
        throw new IOException(adapterDir + ": the adapter was trained on base weights with SHA-256 " + recorded
            + ", but " + PeftAdapters.readConfig(adapterDir).baseModel() + " has " + actual);
      }
    }
    UNet base = UNet.create(UNetConfig.small(), Rng.of(0)).load(baseFile);
    LoraDenoiser adapted = PeftAdapters.load(adapterDir, base);
    adapted.merge();
    return base;
  }

  /** The metadata a run writes beside its adapter: the base weights' SHA-256. */
  public static Map<String, String> adapterMetadata(Path baseFile) throws IOException {
    return Map.of(BASE_SHA256, AtomicFiles.sha256(baseFile));
  }
}
