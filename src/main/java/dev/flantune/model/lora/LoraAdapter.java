package dev.flantune.model.lora;

import dev.flantune.model.CausalLm;
import dev.flantune.model.FlatParameters;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.ParamTable;
import dev.flantune.model.ParamTable.Role;
import dev.flantune.model.family.Family;
import dev.flantune.util.FlanTuneException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A LoRA adapter on a base model: which projections it targets ({@link Module}), its A [r, in] and
 * B [out, r] matrices in one flat fp32 buffer (the only trainable parameters of a LoRA run), named
 * as Hugging Face PEFT names them ({@code base_model.model.<module path>.lora_A.weight}).
 *
 * <p>A targeted projection computes y = x·W + s·(x·Aᵀ)·Bᵀ with W frozen; merging writes W + s·B·A
 * (transposed for GPT-2's Conv1D, whose W is [in, out]). Files: {@link AdapterFiles}.
 */
public final class LoraAdapter {
  public static final String PEFT_PREFIX = "base_model.model.";

  /** The projections a LoRA can target. */
  static final Set<Role> LINEAR_ROLES =
      EnumSet.of(Role.QKV, Role.Q, Role.K, Role.V, Role.O, Role.GATE, Role.UP, Role.DOWN);

  /**
   * One targetable projection: its module path in the HF model, its weight in the base's table, and
   * its input and output widths.
   */
  public record Module(String path, Role role, int layer, String weightName, int in, int out) {
    /** The projection this module sits beside. */
    public dev.flantune.model.ParamTable.Slot slot() {
      return new dev.flantune.model.ParamTable.Slot(role, layer);
    }

    public String aName() {
      return PEFT_PREFIX + path + ".lora_A.weight";
    }

    public String bName() {
      return PEFT_PREFIX + path + ".lora_B.weight";
    }
  }

  private final LoraSpec spec;
  private final List<Module> modules;
  private final FlatParameters params;
  private final String baseModel;

  LoraAdapter(LoraSpec spec, List<Module> modules, FlatParameters params, String baseModel) {
    this.spec = spec;
    this.modules = List.copyOf(modules);
    this.params = params;
    this.baseModel = baseModel;
  }

  /**
   * A fresh adapter as PEFT initializes one: A ~ U(−1/√in, 1/√in) (Kaiming-uniform with a = √5), B
   * = 0, so the model's outputs start unchanged. Each module's A is drawn from a generator seeded
   * by (seed, module path), so the draw does not depend on which other modules are targeted.
   */
  public static LoraAdapter create(CausalLm base, LoraSpec spec, long seed, String baseModel) {
    List<Module> targets = targets(base.config(), base.table(), spec, "lora.target_modules");
    LoraAdapter a = new LoraAdapter(spec, targets, emptyBuffer(spec, targets), baseModel);
    for (Module m : targets) {
      SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ m.path().hashCode());
      float[] values = new float[spec.r() * m.in()];
      double bound = 1 / Math.sqrt(m.in());
      for (int i = 0; i < values.length; i++)
        values[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
      a.params
          .views()
          .get(m.aName())
          .assign(Nd4j.createFromArray(values).reshape(spec.r(), m.in()));
    }
    return a;
  }

  /** A zeroed buffer holding A and B of every module, in module order (all take weight decay). */
  static FlatParameters emptyBuffer(LoraSpec spec, List<Module> modules) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (Module m : modules) {
      shapes.put(m.aName(), new long[] {spec.r(), m.in()});
      shapes.put(m.bName(), new long[] {m.out(), spec.r()});
    }
    return FlatParameters.zeros(shapes, (name, shape) -> true);
  }

  /** Every projection of a model a LoRA can target, in model order. */
  public static List<Module> linearModules(ModelConfig cfg, ParamTable table) {
    String prefix = Family.of(cfg).modulePrefix();
    boolean conv1d = cfg.layout() == ModelConfig.Layout.CONV1D;
    List<Module> out = new ArrayList<>();
    for (ParamTable.Entry e : table.entries()) {
      if (!LINEAR_ROLES.contains(e.role())) continue;
      String path = prefix + e.name().substring(0, e.name().length() - ".weight".length());
      int in = (int) e.shape()[conv1d ? 0 : 1], out2 = (int) e.shape()[conv1d ? 1 : 0];
      out.add(new Module(path, e.role(), e.layer(), e.name(), in, out2));
    }
    return out;
  }

  /**
   * The modules {@code spec} targets, by PEFT's rule: a name targets every module whose path equals
   * it or ends with "." + it; {@code all-linear} every projection; a single entry that is neither a
   * module name nor all-linear is a regular expression the whole path must match. A name that
   * matches nothing is an error naming {@code key} and the model's module names.
   */
  public static List<Module> targets(ModelConfig cfg, ParamTable table, LoraSpec spec, String key) {
    List<Module> all = linearModules(cfg, table);
    if (spec.allLinear()) return all;
    Set<String> shortNames = new LinkedHashSet<>();
    for (Module m : all) shortNames.add(m.path().substring(m.path().lastIndexOf('.') + 1));
    List<String> names = spec.targetModules();
    if (names.size() == 1 && !names.get(0).matches("[A-Za-z0-9_.]+")) {
      Pattern p;
      try {
        p = Pattern.compile(names.get(0));
      } catch (PatternSyntaxException e) {
        throw FlanTuneException.badInput(
            key + ": '" + names.get(0) + "' is neither a module name nor a regular expression");
      }
      List<Module> hit = all.stream().filter(m -> p.matcher(m.path()).matches()).toList();
      if (hit.isEmpty()) throw noMatch(key, names, shortNames, cfg);
      return hit;
    }
    List<String> unused = new ArrayList<>();
    for (String t : names) {
      if (all.stream().noneMatch(m -> matches(m.path(), t))) unused.add(t);
    }
    if (!unused.isEmpty()) throw noMatch(key, unused, shortNames, cfg);
    return all.stream().filter(m -> names.stream().anyMatch(t -> matches(m.path(), t))).toList();
  }

  private static boolean matches(String path, String name) {
    return path.equals(name) || path.endsWith("." + name);
  }

  private static FlanTuneException noMatch(
      String key, List<String> names, Set<String> known, ModelConfig cfg) {
    return FlanTuneException.badInput(
        key
            + ": "
            + names
            + " match no module of this "
            + cfg.modelType()
            + " model; its projections are "
            + String.join(", ", known)
            + " (or all-linear)");
  }

  public LoraSpec spec() {
    return spec;
  }

  public List<Module> modules() {
    return modules;
  }

  /** A and B of every module, named as in PEFT's adapter_model.safetensors. */
  public FlatParameters parameters() {
    return params;
  }

  /** What adapter_config.json records as base_model_name_or_path (may be null). */
  public String baseModel() {
    return baseModel;
  }

  public INDArray a(Module m) {
    return params.views().get(m.aName());
  }

  public INDArray b(Module m) {
    return params.views().get(m.bName());
  }

  /**
   * Adds s·B·A into the targeted weights of {@code model} (a model of the same shape as the base
   * this adapter was made for): W + s·B·A for [out, in] weights, W + s·(B·A)ᵀ for Conv1D [in, out].
   */
  public void mergeInto(CausalLm model) {
    boolean conv1d = model.config().layout() == ModelConfig.Layout.CONV1D;
    double s = spec.scaling();
    for (Module m : modules) {
      INDArray w = model.parameter(m.weightName());
      if (conv1d) Nd4j.gemm(a(m), b(m), w, true, true, s, 1); // [in, r]·[r, out]
      else Nd4j.gemm(b(m), a(m), w, false, false, s, 1); // [out, r]·[r, in]
    }
  }
}
