"""PEFT-style LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language
Models"; rsLoRA: Kalajdzievski 2023) on the plain-PyTorch GPT-2 and Llama references,
in Hugging Face PEFT's file layout. Written without importing peft.

Semantics the Java side must match:
  * A targeted module y = base(x) becomes y = base(x) + s * (dropout(x) @ A.T) @ B.T,
    with A [r, in] and B [out, r] (nn.Linear layouts, also for GPT-2's Conv1D, whose
    base weight is [in, out]); s = lora_alpha / r, or lora_alpha / sqrt(r) with
    use_rslora. The base weight and bias are frozen and unchanged.
  * Init (PEFT's default): A = kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
    B = 0, so a fresh adapter leaves the model's outputs unchanged.
  * Merge: W' = W + s * (B @ A) for nn.Linear ([out, in]); W' = W + s * (B @ A).T for
    Conv1D ([in, out]; fan_in_fan_out true).
  * target_modules: a module whose path equals a name or ends with "." + name is
    targeted (PEFT's rule), so "c_proj" targets attn.c_proj AND mlp.c_proj;
    "all-linear" targets every projection except the LM head. A name that matches
    nothing is an error. Module names: GPT-2 c_attn c_proj c_fc; Llama family
    q_proj k_proj v_proj o_proj gate_proj up_proj down_proj.
  * Module paths are the HF model's: GPT-2 "transformer.h.N.attn.c_attn" (GPT2LMHeadModel),
    Llama "model.layers.N.self_attn.q_proj". Adapter tensors are named
    "base_model.model.<module path>.lora_A.weight" / ".lora_B.weight" in
    adapter_model.safetensors, next to adapter_config.json (peft_type LORA, task_type
    CAUSAL_LM, r, lora_alpha, lora_dropout, target_modules, bias "none",
    fan_in_fan_out, use_rslora, base_model_name_or_path).
"""

import json
import math
import os

import torch

import gpt2_ref
import llama_ref
import safetensors_io as st

PEFT_PREFIX = "base_model.model."
GPT2_MODULES = ("c_attn", "c_proj", "c_fc")
LLAMA_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def family_of(cfg):
    return "gpt2" if isinstance(cfg, gpt2_ref.GPT2Config) else "llama"


class LoraConfig:
    def __init__(self, r, lora_alpha, target_modules, lora_dropout=0.0, use_rslora=False,
                 fan_in_fan_out=False, base_model_name_or_path=None):
        if r <= 0:
            raise ValueError(f"r must be positive, got {r}")
        self.r = r
        self.lora_alpha = lora_alpha
        self.target_modules = target_modules
        self.lora_dropout = lora_dropout
        self.use_rslora = use_rslora
        self.fan_in_fan_out = fan_in_fan_out
        self.base_model_name_or_path = base_model_name_or_path

    @property
    def scaling(self):
        return self.lora_alpha / (math.sqrt(self.r) if self.use_rslora else self.r)

    def to_peft_dict(self):
        """adapter_config.json as PEFT writes it (fields PEFT reads, defaults filled in)."""
        return {
            "alpha_pattern": {}, "auto_mapping": None,
            "base_model_name_or_path": self.base_model_name_or_path,
            "bias": "none", "fan_in_fan_out": self.fan_in_fan_out, "inference_mode": True,
            "init_lora_weights": True, "layers_pattern": None, "layers_to_transform": None,
            "lora_alpha": self.lora_alpha, "lora_dropout": self.lora_dropout,
            "modules_to_save": None, "peft_type": "LORA", "r": self.r, "rank_pattern": {},
            "revision": None, "target_modules": self.target_modules, "task_type": "CAUSAL_LM",
            "use_dora": False, "use_rslora": self.use_rslora,
        }

    @classmethod
    def from_peft_dict(cls, d):
        if d.get("peft_type") != "LORA":
            raise ValueError(f"peft_type {d.get('peft_type')!r} is not LORA")
        if d.get("bias", "none") != "none":
            raise ValueError(f"bias {d.get('bias')!r} not supported (only none)")
        for key in ("use_dora", "rank_pattern", "alpha_pattern", "layers_to_transform",
                    "modules_to_save"):
            if d.get(key):
                raise ValueError(f"{key} {d[key]!r} not supported")
        return cls(r=d["r"], lora_alpha=d["lora_alpha"], target_modules=d["target_modules"],
                   lora_dropout=d.get("lora_dropout", 0.0),
                   use_rslora=d.get("use_rslora", False),
                   fan_in_fan_out=d.get("fan_in_fan_out", False),
                   base_model_name_or_path=d.get("base_model_name_or_path"))


def linear_modules(cfg):
    """{module path: (param name of its weight, in features, out features, is Conv1D)}
    for every projection a LoRA can target, in model order."""
    out = {}
    if family_of(cfg) == "gpt2":
        d = cfg.n_embd
        for i in range(cfg.n_layer):
            for name, fi, fo in (("attn.c_attn", d, 3 * d), ("attn.c_proj", d, d),
                                 ("mlp.c_fc", d, 4 * d), ("mlp.c_proj", 4 * d, d)):
                out[f"transformer.h.{i}.{name}"] = (f"h.{i}.{name}.weight", fi, fo, True)
        return out
    for name, shape in llama_ref.param_shapes(cfg).items():
        if name.endswith("_proj.weight"):
            out[name[:-len(".weight")]] = (name, shape[1], shape[0], False)
    return out


def targeted_modules(cfg, target_modules):
    """Module paths targeted by `target_modules` (PEFT's suffix rule), in model order."""
    modules = linear_modules(cfg)
    if target_modules == "all-linear":
        return list(modules)
    if isinstance(target_modules, str):
        raise ValueError("target_modules as a regular expression is not supported; "
                         "give a list of module names or 'all-linear'")
    names = list(target_modules)
    found = [p for p in modules if any(p == t or p.endswith("." + t) for t in names)]
    unused = [t for t in names if not any(p == t or p.endswith("." + t) for p in modules)]
    if unused:
        known = GPT2_MODULES if family_of(cfg) == "gpt2" else LLAMA_MODULES
        raise ValueError(f"target_modules {unused} match no module of this model "
                         f"(its names: {', '.join(known)}, or all-linear)")
    return found


def init_adapter(cfg, lcfg, seed, b_std=0.0, dtype=torch.float64):
    """{module path: (A, B)}. A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform a=sqrt(5));
    B = 0 (PEFT) unless b_std > 0 (fixtures: B ~ N(0, b_std) so the path is exercised).
    Values are rounded to float32 so a stored F32 adapter holds exactly these."""
    g = torch.Generator().manual_seed(seed)
    mods = linear_modules(cfg)
    adapter = {}
    for path in targeted_modules(cfg, lcfg.target_modules):
        _, fin, fout, _ = mods[path]
        bound = 1.0 / math.sqrt(fin)
        a = (torch.rand(lcfg.r, fin, generator=g, dtype=torch.float64) * 2 - 1) * bound
        b = (b_std * torch.randn(fout, lcfg.r, generator=g, dtype=torch.float64)
             if b_std > 0 else torch.zeros(fout, lcfg.r, dtype=torch.float64))
        adapter[path] = (a.float().to(dtype), b.float().to(dtype))
    return adapter


def peft_names(path):
    return PEFT_PREFIX + path + ".lora_A.weight", PEFT_PREFIX + path + ".lora_B.weight"


def adapter_tensors(adapter):
    out = {}
    for path, (a, b) in adapter.items():
        na, nb = peft_names(path)
        out[na], out[nb] = a, b
    return out


def lora_arg(adapter, lcfg):
    """The {path: (A, B, s)} that gpt2_ref.forward / llama_ref.forward take."""
    s = lcfg.scaling
    return {path: (a, b, s) for path, (a, b) in adapter.items()}


def forward(params, cfg, adapter, lcfg, **batch):
    ref = gpt2_ref if family_of(cfg) == "gpt2" else llama_ref
    return ref.forward(params, cfg, lora=lora_arg(adapter, lcfg), **batch)


def merge(params, cfg, adapter, lcfg):
    """A full checkpoint's parameters with W + s * dW (Conv1D: dW transposed)."""
    mods = linear_modules(cfg)
    merged = dict(params)
    for path, (a, b) in adapter.items():
        name, _, _, conv1d = mods[path]
        delta = lcfg.scaling * (b @ a)
        merged[name] = params[name] + (delta.T if conv1d else delta)
    return merged


def save_adapter(adapter, lcfg, adapter_dir, dtype="F32"):
    os.makedirs(adapter_dir, exist_ok=True)
    with open(os.path.join(adapter_dir, "adapter_config.json"), "w", encoding="utf-8") as f:
        json.dump(lcfg.to_peft_dict(), f, indent=2)
        f.write("\n")
    st.save(os.path.join(adapter_dir, "adapter_model.safetensors"), adapter_tensors(adapter),
            default_dtype=dtype, metadata={"format": "pt"})


def load_adapter(adapter_dir, cfg, dtype=torch.float64):
    """(LoraConfig, {path: (A, B)}); checks names and shapes against the base model."""
    with open(os.path.join(adapter_dir, "adapter_config.json"), encoding="utf-8") as f:
        lcfg = LoraConfig.from_peft_dict(json.load(f))
    tensors = st.load(os.path.join(adapter_dir, "adapter_model.safetensors"), float_dtype=dtype)
    mods = linear_modules(cfg)
    adapter = {}
    for path in targeted_modules(cfg, lcfg.target_modules):
        na, nb = peft_names(path)
        if na not in tensors or nb not in tensors:
            raise ValueError(f"{adapter_dir}: missing {na if na not in tensors else nb}")
        _, fin, fout, _ = mods[path]
        for n, want in ((na, (lcfg.r, fin)), (nb, (fout, lcfg.r))):
            if tuple(tensors[n].shape) != want:
                raise ValueError(f"{adapter_dir}: {n} has shape {tuple(tensors[n].shape)}, "
                                 f"want {want}")
        adapter[path] = (tensors.pop(na), tensors.pop(nb))
    if tensors:
        raise ValueError(f"{adapter_dir}: unexpected tensors {sorted(tensors)[:3]}")
    return lcfg, adapter
