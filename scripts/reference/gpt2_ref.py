"""Independent plain-PyTorch GPT-2 (Hugging Face GPT2LMHeadModel semantics).

Written from the GPT-2 paper / HF semantics without importing transformers, so
that the Java (SameDiff) implementation can be checked against something that
shares none of its code. It is deliberately functional: parameters are a flat
{HF name: tensor} dict, so gradients come out already keyed and shaped the way
HF checkpoints store them, and the dtype (float64 for fixtures) is whatever the
parameter tensors are.

Layout conventions (the Java side must follow them):
  * Conv1D: every projection weight is stored [in, out] and applied as
    y = x @ W + b (NOT nn.Linear's [out, in] with x @ W.T).
      attn.c_attn.weight [d, 3d]  -> columns [0:d]=query, [d:2d]=key, [2d:3d]=value;
                                     within each, head h owns columns [h*hd:(h+1)*hd]
      attn.c_proj.weight [d, d]
      mlp.c_fc.weight    [d, 4d]
      mlp.c_proj.weight  [4d, d]
  * wte [V, d], wpe [n_positions, d]; the LM head is logits = h @ wte.T (tied),
    or h @ lm_head.weight.T with lm_head.weight [V, d] (nn.Linear layout, no bias)
    when tie_word_embeddings is false.
  * Real HF files may also hold h.{i}.attn.bias / h.{i}.attn.masked_bias: those are
    the old causal-mask buffers, not parameters; loaders must ignore them.
"""

import json
import math
import os

import torch
import torch.nn.functional as F

import safetensors_io as st

# Names of the non-parameter buffers found in real GPT-2 checkpoints.
IGNORED_SUFFIXES = (".attn.bias", ".attn.masked_bias")


class GPT2Config:
    """The subset of HF GPT2Config that changes the math, with HF key names."""

    def __init__(self, vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12,
                 n_head=12, layer_norm_epsilon=1e-5, tie_word_embeddings=True,
                 bos_token_id=50256, eos_token_id=50256):
        if n_embd % n_head:
            raise ValueError(f"n_embd {n_embd} is not divisible by n_head {n_head}")
        self.vocab_size = vocab_size
        self.n_positions = n_positions
        self.n_embd = n_embd
        self.n_layer = n_layer
        self.n_head = n_head
        self.layer_norm_epsilon = layer_norm_epsilon
        self.tie_word_embeddings = tie_word_embeddings
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id

    @classmethod
    def from_dict(cls, d):
        act = d.get("activation_function", "gelu_new")
        if act != "gelu_new":
            raise ValueError(f"activation_function {act!r} not supported (only gelu_new)")
        return cls(vocab_size=d["vocab_size"],
                   n_positions=d.get("n_positions", d.get("n_ctx", 1024)),
                   n_embd=d["n_embd"], n_layer=d["n_layer"], n_head=d["n_head"],
                   layer_norm_epsilon=d.get("layer_norm_epsilon", 1e-5),
                   # HF's default is tied; real gpt2 config.json does not even state it.
                   tie_word_embeddings=d.get("tie_word_embeddings", True),
                   bos_token_id=d.get("bos_token_id", 50256),
                   eos_token_id=d.get("eos_token_id", 50256))

    def to_dict(self):
        return {
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "activation_function": "gelu_new",
            "vocab_size": self.vocab_size,
            "n_positions": self.n_positions,
            "n_ctx": self.n_positions,
            "n_embd": self.n_embd,
            "n_layer": self.n_layer,
            "n_head": self.n_head,
            "n_inner": None,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "tie_word_embeddings": self.tie_word_embeddings,
            "bos_token_id": self.bos_token_id,
            "eos_token_id": self.eos_token_id,
            "initializer_range": 0.02,
            "resid_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "attn_pdrop": 0.0,
            "scale_attn_weights": True,
            "scale_attn_by_inverse_layer_idx": False,
            "reorder_and_upcast_attn": False,
        }

    @classmethod
    def load(cls, model_dir):
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def save(self, model_dir):
        with open(os.path.join(model_dir, "config.json"), "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write("\n")


# ----------------------------------------------------------------------------- parameters

def param_shapes(cfg):
    """Every parameter's HF name and shape, in HF's state-dict order."""
    d, V = cfg.n_embd, cfg.vocab_size
    shapes = {"wte.weight": (V, d), "wpe.weight": (cfg.n_positions, d)}
    for i in range(cfg.n_layer):
        p = f"h.{i}."
        shapes.update({
            p + "ln_1.weight": (d,), p + "ln_1.bias": (d,),
            p + "attn.c_attn.weight": (d, 3 * d), p + "attn.c_attn.bias": (3 * d,),
            p + "attn.c_proj.weight": (d, d), p + "attn.c_proj.bias": (d,),
            p + "ln_2.weight": (d,), p + "ln_2.bias": (d,),
            p + "mlp.c_fc.weight": (d, 4 * d), p + "mlp.c_fc.bias": (4 * d,),
            p + "mlp.c_proj.weight": (4 * d, d), p + "mlp.c_proj.bias": (d,),
        })
    shapes.update({"ln_f.weight": (d,), "ln_f.bias": (d,)})
    if not cfg.tie_word_embeddings:
        shapes["lm_head.weight"] = (V, d)
    return shapes


def is_layer_norm(name):
    return ".ln_" in name or name.startswith("ln_")


def init_params(cfg, seed=0, std=0.02, perturb=0.0, dtype=torch.float64):
    """HF-style init: N(0, std) weights, c_proj weights N(0, std/sqrt(2L)) (the GPT-2
    paper's residual scaling, which HF applies too), zero biases, LayerNorm (1, 0).

    perturb > 0 adds N(0, perturb) noise to every bias and LayerNorm parameter so
    that a Java implementation that drops or misplaces one of them fails a test.
    Values are rounded to float32 before widening to `dtype`, so the float32 file a
    fixture stores holds exactly the weights the float64 reference used.
    """
    g = torch.Generator().manual_seed(seed)
    params = {}
    for name, shape in param_shapes(cfg).items():
        if is_layer_norm(name):
            base = torch.ones(shape) if name.endswith("weight") else torch.zeros(shape)
            t = base + perturb * torch.randn(shape, generator=g)
        elif name.endswith("bias"):
            t = perturb * torch.randn(shape, generator=g)
        else:
            s = std / math.sqrt(2 * cfg.n_layer) if name.endswith("c_proj.weight") else std
            t = s * torch.randn(shape, generator=g)
        params[name] = t.to(torch.float32).to(dtype)
    return params


# ----------------------------------------------------------------------------- math

def gelu_new(x):
    # GPT-2's tanh approximation; F.gelu(approximate="tanh") would do, but spelling it
    # out makes the formula the Java side must match explicit.
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def positions_from_segments(segment_ids):
    """Position ids that restart at 0 at the start of every segment; padding gets 0."""
    seg = torch.as_tensor(segment_ids)
    B, T = seg.shape
    pos = torch.zeros(B, T, dtype=torch.long)
    for b in range(B):
        p = 0
        for t in range(T):
            if t > 0 and seg[b, t] != seg[b, t - 1]:
                p = 0
            pos[b, t] = p if seg[b, t] != 0 else 0
            p += 1
    return pos


def allowed_attention(T, attention_mask=None, segment_ids=None):
    """Bool [B or 1, T(query), T(key)]: True where the query may attend to the key.

    Padded batches: causal AND key is real. Packed batches: causal AND the key is
    in the same nonzero segment as the query, so no example sees another.
    """
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    if segment_ids is not None:
        seg = torch.as_tensor(segment_ids)
        same = seg[:, :, None] == seg[:, None, :]
        return causal[None] & same & (seg[:, None, :] != 0)
    if attention_mask is not None:
        am = torch.as_tensor(attention_mask)
        return causal[None] & (am[:, None, :] > 0)
    return causal[None]


def lora_delta(lora, path, x):
    """PEFT LoRA's added term s * (x @ A.T) @ B.T for the module at `path` (its HF module
    path, e.g. "transformer.h.0.attn.c_attn"), or None when the module has no adapter.
    lora: {path: (A [r, in], B [out, r], s)}; see lora_ref.py."""
    if not lora or path not in lora:
        return None
    a, b, s = lora[path]
    return s * ((x @ a.T) @ b.T)


def forward(params, cfg, input_ids, attention_mask=None, segment_ids=None, position_ids=None,
            lora=None):
    """Logits [B, T, V] in the dtype of the parameters. `lora` (optional) adds PEFT LoRA
    adapters to c_attn/c_proj/c_fc without merging them (see lora_delta)."""
    ids = torch.as_tensor(input_ids, dtype=torch.long)
    B, T = ids.shape
    if T > cfg.n_positions:
        raise ValueError(f"sequence length {T} exceeds n_positions {cfg.n_positions}")
    if position_ids is None:
        position_ids = (positions_from_segments(segment_ids) if segment_ids is not None
                        else torch.arange(T).expand(B, T))
    pos = torch.as_tensor(position_ids, dtype=torch.long)
    d, H = cfg.n_embd, cfg.n_head
    hd = d // H
    eps = cfg.layer_norm_epsilon

    allowed = allowed_attention(T, attention_mask, segment_ids)[:, None]  # [B|1, 1, T, T]
    x = params["wte.weight"][ids] + params["wpe.weight"][pos]
    for i in range(cfg.n_layer):
        p = lambda n: params[f"h.{i}.{n}"]  # noqa: E731
        h = F.layer_norm(x, (d,), p("ln_1.weight"), p("ln_1.bias"), eps)
        qkv = h @ p("attn.c_attn.weight") + p("attn.c_attn.bias")
        extra = lora_delta(lora, f"transformer.h.{i}.attn.c_attn", h)
        if extra is not None:
            qkv = qkv + extra
        q, k, v = qkv.split(d, dim=-1)
        q, k, v = (t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        # masked_fill (not +bias) keeps fully masked pad rows finite: they become a
        # uniform average instead of NaN. Their outputs are never used.
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        att = torch.softmax(scores, dim=-1)
        a = (att @ v).transpose(1, 2).reshape(B, T, d)
        x = x + a @ p("attn.c_proj.weight") + p("attn.c_proj.bias")
        extra = lora_delta(lora, f"transformer.h.{i}.attn.c_proj", a)
        if extra is not None:
            x = x + extra
        h = F.layer_norm(x, (d,), p("ln_2.weight"), p("ln_2.bias"), eps)
        m = h @ p("mlp.c_fc.weight") + p("mlp.c_fc.bias")
        extra = lora_delta(lora, f"transformer.h.{i}.mlp.c_fc", h)
        if extra is not None:
            m = m + extra
        m = gelu_new(m)
        x = x + m @ p("mlp.c_proj.weight") + p("mlp.c_proj.bias")
        extra = lora_delta(lora, f"transformer.h.{i}.mlp.c_proj", m)
        if extra is not None:
            x = x + extra
    x = F.layer_norm(x, (d,), params["ln_f.weight"], params["ln_f.bias"], eps)
    head = params["wte.weight"] if cfg.tie_word_embeddings else params["lm_head.weight"]
    return x @ head.T


def token_ce(logits, labels):
    """Per-position cross entropy [B, T] of logits[:, t] against labels[:, t]."""
    logp = torch.log_softmax(logits, dim=-1)
    return -logp.gather(-1, torch.as_tensor(labels, dtype=torch.long)[..., None])[..., 0]


def masked_loss(logits, labels, loss_mask):
    """sum(ce * mask) / sum(mask): the mean over target tokens of the whole batch."""
    mask = torch.as_tensor(loss_mask, dtype=logits.dtype)
    return (token_ce(logits, labels) * mask).sum() / mask.sum()


def decay_param_names(params):
    """AdamW decay rule used by the fixtures: rank-2 weights decay (wte, wpe, every
    c_attn/c_proj/c_fc weight, lm_head); biases and LayerNorm do not."""
    return sorted(n for n, t in params.items() if t.dim() >= 2)


# ----------------------------------------------------------------------------- checkpoints

def _strip(name):
    return name[len("transformer."):] if name.startswith("transformer.") else name


def load_checkpoint(model_dir, dtype=torch.float64):
    """Loads config.json + model.safetensors (or shards via model.safetensors.index.json).

    Accepts F32/F16/BF16, names with or without the "transformer." prefix, a tied
    head with or without a redundant lm_head.weight, and ignores attn.bias buffers.
    """
    cfg = GPT2Config.load(model_dir)
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index, encoding="utf-8") as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    raw = {}
    for fn in files:
        raw.update(st.load(os.path.join(model_dir, fn), float_dtype=dtype))
    params = {}
    for name, t in raw.items():
        n = _strip(name)
        if n.endswith(IGNORED_SUFFIXES):
            continue
        params[n] = t
    if cfg.tie_word_embeddings:
        params.pop("lm_head.weight", None)  # a tied head is wte; a stored copy is redundant
    expected = param_shapes(cfg)
    missing = sorted(set(expected) - set(params))
    extra = sorted(set(params) - set(expected))
    if missing or extra:
        raise ValueError(f"{model_dir}: missing {missing} unexpected {extra}")
    for n, shape in expected.items():
        if tuple(params[n].shape) != shape:
            raise ValueError(f"{model_dir}: {n} has shape {tuple(params[n].shape)}, want {shape}")
    return cfg, params


def save_checkpoint(params, cfg, model_dir, dtype="F32", prefix="", shards=1,
                    attn_bias_buffers=False):
    """Writes config.json and safetensors in HF layout.

    prefix="transformer." reproduces GPT2LMHeadModel state dicts: every transformer
    tensor is prefixed, lm_head.weight never is. shards > 1 writes
    model-0000k-of-0000n.safetensors plus model.safetensors.index.json.
    attn_bias_buffers=True adds the [1,1,P,P] causal-mask buffers that real gpt2
    checkpoints carry, to test that loaders skip them.
    """
    os.makedirs(model_dir, exist_ok=True)
    cfg.save(model_dir)
    named = {}
    for n, t in params.items():
        named[n if n == "lm_head.weight" else prefix + n] = t
    if attn_bias_buffers:
        P = cfg.n_positions
        for i in range(cfg.n_layer):
            named[f"{prefix}h.{i}.attn.bias"] = torch.tril(torch.ones(P, P)).view(1, 1, P, P)
    names = list(named)  # HF order: embeddings, blocks, ln_f, lm_head
    meta = {"format": "pt"}
    if shards <= 1:
        st.save(os.path.join(model_dir, "model.safetensors"), named, default_dtype=dtype,
                metadata=meta)
        return
    per = math.ceil(len(names) / shards)
    weight_map, total = {}, 0
    for k in range(shards):
        chunk = names[k * per:(k + 1) * per]
        fn = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
        total += st.save(os.path.join(model_dir, fn), {n: named[n] for n in chunk},
                         default_dtype=dtype, metadata=meta)
        weight_map.update({n: fn for n in chunk})
    with open(os.path.join(model_dir, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")
