"""Independent plain-PyTorch Llama-family causal LM (HF LlamaForCausalLM,
Qwen2ForCausalLM and MistralForCausalLM semantics), for float64 parity fixtures
and the PyTorch side of `bench --arch llama`.

Written from the papers (RMSNorm, RoFormer's rotary embedding, GQA, SwiGLU) and the
Hugging Face conventions listed below, without importing transformers. Like
gpt2_ref.py it is functional: parameters are a flat {HF name: tensor} dict, so
gradients come out keyed and shaped as HF checkpoints store them, and the dtype is
whatever the parameter tensors are (float64 for fixtures, float32 for benchmarks).

Conventions the Java side must follow:
  * Linear layout is nn.Linear's [out, in], applied as y = x @ W.T + b.
      model.embed_tokens.weight                 [V, d]
      model.layers.N.input_layernorm.weight     [d]
      model.layers.N.self_attn.q_proj.weight    [H*hd, d]    (+ .bias [H*hd])
      model.layers.N.self_attn.k_proj.weight    [KV*hd, d]   (+ .bias [KV*hd])
      model.layers.N.self_attn.v_proj.weight    [KV*hd, d]   (+ .bias [KV*hd])
      model.layers.N.self_attn.o_proj.weight    [d, H*hd]    (+ .bias [d])
      model.layers.N.post_attention_layernorm.weight [d]
      model.layers.N.mlp.gate_proj.weight       [F, d]       (+ .bias [F])
      model.layers.N.mlp.up_proj.weight         [F, d]       (+ .bias [F])
      model.layers.N.mlp.down_proj.weight       [d, F]       (+ .bias [d])
      model.norm.weight                         [d]
      lm_head.weight                            [V, d]       (only when untied; no bias)
    Biases: llama: q/k/v/o iff attention_bias, gate/up/down iff mlp_bias;
            qwen2: q/k/v always, o never, MLP never; mistral: none.
  * Output rows of q_proj: head h owns rows [h*hd, (h+1)*hd); likewise k/v with KV heads.
    GQA: query head h reads KV head h // (H / KV) (HF's repeat_kv = repeat_interleave).
  * RMSNorm: w * (x * rsqrt(mean(x^2, last dim) + eps)), no bias, no mean subtraction.
  * RoPE, HF's rotate-half convention on the full head_dim (checkpoints on the hub are
    already permuted for it): inv_freq[i] = 1 / theta^(2i/hd), i < hd/2, then scaled
    (below); angle[t, i] = position_ids[t] * inv_freq[i]; cos/sin = cat(angle, angle);
    x' = x*cos + rotate_half(x)*sin, rotate_half(x) = cat(-x[hd/2:], x[:hd/2]).
    Applied to q and k after their biases, before the dot product.
    Scaling: linear: inv_freq / factor. llama3: HF's _compute_llama3_parameters
    (wavelength 2*pi/inv_freq < orig/high_freq_factor: unchanged; > orig/low_freq_factor:
    / factor; between: smooth = (orig/wavelen - low)/(high - low), inv_freq =
    (1 - smooth)*inv_freq/factor + smooth*inv_freq). Neither changes cos/sin magnitudes.
    inv_freq is computed here in float64 (HF computes it in float32; the difference is
    ~1e-7 relative, far below fixture tolerances).
  * Attention scores q.k / sqrt(hd), masked, softmax; head outputs concatenated in
    head order, then o_proj. MLP: down(silu(gate(x)) * up(x)), silu(x) = x*sigmoid(x).
  * Blocks: x += attn(input_layernorm(x)); x += mlp(post_attention_layernorm(x));
    then model.norm and the head (embed_tokens.T when tied). No embedding scaling.
  * Config keys: head_dim explicit or hidden_size // num_attention_heads;
    num_key_value_heads defaults to num_attention_heads; rope_scaling with "type" or
    "rope_type"; or transformers-v5 "rope_parameters" {rope_type, rope_theta, factor...},
    which wins over rope_scaling/rope_theta when present.
"""

import json
import math
import os

import torch
import torch.nn.functional as F

import safetensors_io as st
from gpt2_ref import (allowed_attention, lora_delta, masked_loss,  # noqa: F401
                      positions_from_segments, token_ce)

MODEL_TYPES = ("llama", "qwen2", "mistral")
ROPE_TYPES = ("default", "linear", "llama3")
# Buffers some older Llama checkpoints carry; not parameters.
IGNORED_SUFFIXES = (".rotary_emb.inv_freq",)


class LlamaConfig:
    """The math-relevant subset of an HF Llama/Qwen2/Mistral config.json. `raw` keeps
    the dict it was read from, so that fixtures write back exactly that file."""

    def __init__(self, raw):
        d = dict(raw)
        self.raw = d
        self.model_type = d.get("model_type")
        if self.model_type not in MODEL_TYPES:
            raise ValueError(f"model_type {self.model_type!r} not supported "
                             f"(supported: {', '.join(MODEL_TYPES)})")
        act = d.get("hidden_act", "silu")
        if act != "silu":
            raise ValueError(f"hidden_act {act!r} not supported (only silu)")
        self.vocab_size = d["vocab_size"]
        self.hidden_size = d["hidden_size"]
        self.intermediate_size = d["intermediate_size"]
        self.num_hidden_layers = d["num_hidden_layers"]
        self.num_attention_heads = d["num_attention_heads"]
        self.num_key_value_heads = d.get("num_key_value_heads") or self.num_attention_heads
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError(f"num_attention_heads {self.num_attention_heads} is not a multiple "
                             f"of num_key_value_heads {self.num_key_value_heads}")
        self.head_dim = d.get("head_dim") or self.hidden_size // self.num_attention_heads
        if self.head_dim % 2:
            raise ValueError(f"head_dim {self.head_dim} must be even for RoPE")
        self.rms_norm_eps = d.get("rms_norm_eps", 1e-6)
        self.max_position_embeddings = d.get("max_position_embeddings", 2048)
        self.tie_word_embeddings = d.get("tie_word_embeddings", False)  # HF default: untied
        self.bos_token_id = d.get("bos_token_id")
        self.eos_token_id = d.get("eos_token_id")
        if self.model_type == "llama":
            self.qkv_bias = self.o_bias = bool(d.get("attention_bias", False))
            self.mlp_bias = bool(d.get("mlp_bias", False))
        elif self.model_type == "qwen2":
            self.qkv_bias, self.o_bias, self.mlp_bias = True, False, False
        else:
            self.qkv_bias = self.o_bias = self.mlp_bias = False
        # Sliding-window attention is only full attention when the window covers the context.
        if self.model_type == "qwen2":
            self.sliding_window = d.get("sliding_window") if d.get("use_sliding_window") else None
        elif self.model_type == "mistral":
            self.sliding_window = d.get("sliding_window")
        else:
            self.sliding_window = None
        self.rope_theta, self.rope_type, self.rope = self._rope(d)

    @staticmethod
    def _rope(d):
        params = d.get("rope_parameters")
        if params is not None:
            if not isinstance(params, dict) or any(isinstance(v, dict) for v in params.values()):
                raise ValueError("rope_parameters must be one flat dict (per-layer-type "
                                 "rope_parameters are not supported)")
            theta = params.get("rope_theta", d.get("rope_theta", 10000.0))
            scaling = params
        else:
            theta = d.get("rope_theta", 10000.0)
            scaling = d.get("rope_scaling") or {}
        partial = scaling.get("partial_rotary_factor", d.get("partial_rotary_factor", 1.0))
        if partial != 1.0:
            raise ValueError(f"partial_rotary_factor {partial} not supported (only 1.0)")
        rope_type = scaling.get("rope_type", scaling.get("type", "default"))
        if rope_type not in ROPE_TYPES:
            raise ValueError(f"rope type {rope_type!r} not supported "
                             f"(supported: {', '.join(ROPE_TYPES)})")
        needed = {"default": (), "linear": ("factor",),
                  "llama3": ("factor", "low_freq_factor", "high_freq_factor",
                             "original_max_position_embeddings")}[rope_type]
        missing = [k for k in needed if k not in scaling]
        if missing:
            raise ValueError(f"rope type {rope_type}: missing {missing}")
        return float(theta), rope_type, {k: float(scaling[k]) for k in needed}

    @classmethod
    def load(cls, model_dir):
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            return cls(json.load(f))

    def save(self, model_dir):
        with open(os.path.join(model_dir, "config.json"), "w", encoding="utf-8") as f:
            json.dump(self.raw, f, indent=2)
            f.write("\n")


# ----------------------------------------------------------------------------- parameters

def param_shapes(cfg):
    """Every parameter's HF name and shape, in HF's state-dict order."""
    d, V, F_ = cfg.hidden_size, cfg.vocab_size, cfg.intermediate_size
    q_out = cfg.num_attention_heads * cfg.head_dim
    kv_out = cfg.num_key_value_heads * cfg.head_dim
    shapes = {"model.embed_tokens.weight": (V, d)}
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        for name, out, inp, bias in (("self_attn.q_proj", q_out, d, cfg.qkv_bias),
                                     ("self_attn.k_proj", kv_out, d, cfg.qkv_bias),
                                     ("self_attn.v_proj", kv_out, d, cfg.qkv_bias),
                                     ("self_attn.o_proj", d, q_out, cfg.o_bias),
                                     ("mlp.gate_proj", F_, d, cfg.mlp_bias),
                                     ("mlp.up_proj", F_, d, cfg.mlp_bias),
                                     ("mlp.down_proj", d, F_, cfg.mlp_bias)):
            shapes[p + name + ".weight"] = (out, inp)
            if bias:
                shapes[p + name + ".bias"] = (out,)
        shapes[p + "input_layernorm.weight"] = (d,)
        shapes[p + "post_attention_layernorm.weight"] = (d,)
    shapes["model.norm.weight"] = (d,)
    if not cfg.tie_word_embeddings:
        shapes["lm_head.weight"] = (V, d)
    return shapes


def is_norm(name):
    return name.endswith("layernorm.weight") or name == "model.norm.weight"


def init_params(cfg, seed=0, std=0.02, perturb=0.0, dtype=torch.float64):
    """HF-style init: N(0, std) matrices, zero biases, unit RMSNorm weights.

    perturb > 0 adds N(0, perturb) to every bias and norm weight so that a Java
    implementation that drops or misplaces one of them fails. Values are rounded to
    float32 before widening, so a float32 file holds exactly the weights used.
    """
    g = torch.Generator().manual_seed(seed)
    params = {}
    for name, shape in param_shapes(cfg).items():
        if is_norm(name):
            t = torch.ones(shape) + perturb * torch.randn(shape, generator=g)
        elif name.endswith(".bias"):
            t = perturb * torch.randn(shape, generator=g)
        else:
            t = std * torch.randn(shape, generator=g)
        params[name] = t.to(torch.float32).to(dtype)
    return params


def decay_param_names(params):
    """AdamW decay rule of the fixtures (as gpt2_ref): rank-2 weights decay (embeddings,
    every projection, lm_head); biases and RMSNorm weights do not."""
    return sorted(n for n, t in params.items() if t.dim() >= 2)


# ----------------------------------------------------------------------------- math

def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope_inv_freq(cfg):
    """float64 [hd/2] inverse frequencies after scaling."""
    hd = cfg.head_dim
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    r = cfg.rope
    if cfg.rope_type == "linear":
        inv = inv / r["factor"]
    elif cfg.rope_type == "llama3":
        factor, low, high = r["factor"], r["low_freq_factor"], r["high_freq_factor"]
        old = r["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
        inv = torch.where(medium, smoothed, scaled)
    return inv


def rope_cos_sin(cfg, position_ids, dtype):
    """cos, sin [B, T, hd] for integer position_ids [B, T]."""
    angle = position_ids.to(torch.float64)[..., None] * rope_inv_freq(cfg)
    emb = torch.cat([angle, angle], dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def linear(x, params, name, lora=None):
    """nn.Linear (y = x @ W.T + b) of the module `name`, plus its LoRA term if any."""
    y = x @ params[name + ".weight"].T
    b = params.get(name + ".bias")
    if b is not None:
        y = y + b
    extra = lora_delta(lora, name, x)
    return y if extra is None else y + extra


def forward(params, cfg, input_ids, attention_mask=None, segment_ids=None, position_ids=None,
            lora=None):
    """Logits [B, T, V] in the dtype of the parameters. Masks as gpt2_ref: with
    segment_ids attention is causal within each nonzero segment (packing), else causal
    over keys with attention_mask 1 (right padding). `lora` (optional): PEFT LoRA
    adapters {module path: (A, B, s)}, added without merging (gpt2_ref.lora_delta)."""
    ids = torch.as_tensor(input_ids, dtype=torch.long)
    B, T = ids.shape
    if cfg.sliding_window is not None and cfg.sliding_window < T:
        raise ValueError(f"sliding_window {cfg.sliding_window} < sequence length {T}")
    if position_ids is None:
        position_ids = (positions_from_segments(segment_ids) if segment_ids is not None
                        else torch.arange(T).expand(B, T))
    pos = torch.as_tensor(position_ids, dtype=torch.long)
    H, KV, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    eps = cfg.rms_norm_eps
    dtype = params["model.embed_tokens.weight"].dtype
    cos, sin = (t[:, None] for t in rope_cos_sin(cfg, pos, dtype))  # [B, 1, T, hd]
    allowed = allowed_attention(T, attention_mask, segment_ids)[:, None]  # [B|1, 1, T, T]

    x = params["model.embed_tokens.weight"][ids]
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        h = rms_norm(x, params[p + "input_layernorm.weight"], eps)
        q = linear(h, params, p + "self_attn.q_proj", lora).view(B, T, H, hd).transpose(1, 2)
        k = linear(h, params, p + "self_attn.k_proj", lora).view(B, T, KV, hd).transpose(1, 2)
        v = linear(h, params, p + "self_attn.v_proj", lora).view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        # masked_fill keeps fully masked pad rows finite (their outputs are never used).
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        a = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, T, H * hd)
        x = x + linear(a, params, p + "self_attn.o_proj", lora)
        h = rms_norm(x, params[p + "post_attention_layernorm.weight"], eps)
        m = F.silu(linear(h, params, p + "mlp.gate_proj", lora)) * linear(h, params, p + "mlp.up_proj", lora)
        x = x + linear(m, params, p + "mlp.down_proj", lora)
    x = rms_norm(x, params["model.norm.weight"], eps)
    head = params["model.embed_tokens.weight"] if cfg.tie_word_embeddings else params["lm_head.weight"]
    return x @ head.T


# ----------------------------------------------------------------------------- checkpoints

def load_checkpoint(model_dir, dtype=torch.float64):
    """config.json + model.safetensors (or shards via model.safetensors.index.json);
    F32/F16/BF16; a tied head may also be stored (ignored); inv_freq buffers skipped."""
    cfg = LlamaConfig.load(model_dir)
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index, encoding="utf-8") as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    params = {}
    for fn in files:
        for n, t in st.load(os.path.join(model_dir, fn), float_dtype=dtype).items():
            if not n.endswith(IGNORED_SUFFIXES):
                params[n] = t
    if cfg.tie_word_embeddings:
        params.pop("lm_head.weight", None)
    expected = param_shapes(cfg)
    missing = sorted(set(expected) - set(params))
    extra = sorted(set(params) - set(expected))
    if missing or extra:
        raise ValueError(f"{model_dir}: missing {missing} unexpected {extra}")
    for n, shape in expected.items():
        if tuple(params[n].shape) != shape:
            raise ValueError(f"{model_dir}: {n} has shape {tuple(params[n].shape)}, want {shape}")
    return cfg, params


def save_checkpoint(params, cfg, model_dir, dtype="F32", shards=1):
    """config.json + safetensors in HF layout (HF names, optional shards + index)."""
    os.makedirs(model_dir, exist_ok=True)
    cfg.save(model_dir)
    names = list(params)
    meta = {"format": "pt"}
    if shards <= 1:
        st.save(os.path.join(model_dir, "model.safetensors"), params, default_dtype=dtype,
                metadata=meta)
        return
    per = math.ceil(len(names) / shards)
    weight_map, total = {}, 0
    for k in range(shards):
        chunk = names[k * per:(k + 1) * per]
        fn = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
        total += st.save(os.path.join(model_dir, fn), {n: params[n] for n in chunk},
                         default_dtype=dtype, metadata=meta)
        weight_map.update({n: fn for n in chunk})
    with open(os.path.join(model_dir, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")
