#!/usr/bin/python3
"""Writes the Llama-family parity fixtures under src/test/resources/parity-llama/.

Same structure as the GPT-2 fixtures (make_parity_fixtures.py), so one Java loader
reads both. Each case directory <case>/ holds:

  config.json          a real HF config.json for its model_type (llama, qwen2, mistral),
                       exactly the dict the reference parsed
  model.safetensors    random F32 weights, HF names (model.embed_tokens.weight,
                       model.layers.N.self_attn.q_proj.weight, ...), nn.Linear [out, in]
  expected.safetensors inputs and float64-computed results, stored F32 (ids I32):
      input_ids [B,T] I32, labels [B,T] I32 (already shifted: labels[t] = input_ids[t+1],
      last column = pad id), attention_mask [B,T] F32 (1 real, 0 pad), loss_mask [B,T] F32,
      position_ids [B,T] I32, segment_ids [B,T] I32 (packed cases only; 0 = padding,
      k = k-th example of the row), logits [B,T,V], ce [B,T] (per-position cross
      entropy), loss [1], grad.<HF name> for EVERY parameter (HF shape),
      adam.loss [3] (loss before each of 3 AdamW steps; adam.loss[0] == loss),
      adam.final.<HF name> for the parameters listed in case.json optimizer.adam.final,
      rope.inv_freq [head_dim/2] (after scaling; informational, for unit tests)
  case.json            sizes, layout, definitions, optimizer settings, the reference's
                       self-checks and suggested tolerances

formats/rope-parameters-bf16-sharded/ holds the llama3-scaled-untied weights as BF16
in 2 shards + index, with a transformers-v5 config (rope_parameters, no top-level
rope_theta/rope_scaling); its expected.safetensors has the inputs and logits only
(computed from the BF16-rounded weights).

Definitions (identical to the GPT-2 fixtures):
  loss = sum(ce * loss_mask) / sum(loss_mask) over the whole batch (mean over target
  tokens); attention causal AND key real (padded rows) or causal AND same nonzero
  segment (packed rows); position_ids 0..T-1 in padded rows, restarting at 0 at each
  example in packed rows (0 on padding); pad id = EOS id = V-1 and real EOS tokens
  occur inside rows; logits at padding are unspecified. AdamW = torch.optim.AdamW(lr 1e-2,
  betas (0.9, 0.999), eps 1e-8), weight_decay 0.1 on rank-2 tensors (embeddings, every
  projection weight, lm_head), 0 on biases and RMSNorm weights, no clipping.

Run: /usr/bin/python3 scripts/reference/make_llama_parity_fixtures.py
Deterministic (fixed seeds, one thread): the same bytes on every run.
"""

import argparse
import copy
import json
import os
import sys

# OpenBLAS reads these when torch loads it. The float64 results do not depend on them,
# but case.json's float32-vs-float64 numbers do: the committed fixtures were made
# without them, so regenerating on a machine that pins OpenBLAS gives the same bytes.
for _pin in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_pin, None)

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_ref as ref  # noqa: E402
import make_parity_fixtures as gpt2_fixtures  # noqa: E402  (build_batch: same batch rules)
import safetensors_io as st  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "src", "test", "resources", "parity-llama")

ADAM = gpt2_fixtures.ADAM
# std 0.2 (not HF's 0.02) so attention and softmax are far from uniform and a wrong
# rotation, scale, mask or head mapping changes numbers visibly.
INIT = {"std": 0.2, "perturb": 0.1}

PAD_ROWS = [[(16, 5)], [(11, 4)], [(7, 3)]]
PACKED_ROWS = [[(6, 3), (5, 2), (5, 3)], [(9, 3), (4, 2)], [(3, 1), (7, 2), (4, 2)]]

CASES = {
    # SmolLM2-style config: GQA 4/2, head_dim derived (32/4), tied, no scaling.
    "llama-gqa-pad": dict(seed=11, T=16, layout="pad", rows=PAD_ROWS, config={
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 99,
        "eos_token_id": 100, "hidden_act": "silu", "hidden_size": 32,
        "initializer_range": 0.02, "intermediate_size": 64, "max_position_embeddings": 64,
        "mlp_bias": False, "num_attention_heads": 4, "num_hidden_layers": 2,
        "num_key_value_heads": 2, "pretraining_tp": 1, "rms_norm_eps": 1e-5,
        "rope_scaling": None, "rope_theta": 10000.0, "tie_word_embeddings": True,
        "torch_dtype": "float32", "transformers_version": "4.46.0", "use_cache": True,
        "vocab_size": 101}),
    # Qwen2.5-style config: MQA 4/1, q/k/v biases (no o bias), theta 1e6, packing.
    # sliding_window is set but use_sliding_window is false, as in real Qwen2.5 files.
    "qwen2-mqa-packed": dict(seed=12, T=16, layout="packed", rows=PACKED_ROWS, config={
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
        "attention_dropout": 0.0, "bos_token_id": 100, "eos_token_id": 100,
        "hidden_act": "silu", "hidden_size": 32, "initializer_range": 0.02,
        "intermediate_size": 56, "max_position_embeddings": 64, "max_window_layers": 2,
        "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 1,
        "rms_norm_eps": 1e-6, "rope_scaling": None, "rope_theta": 1000000.0,
        "sliding_window": 64, "tie_word_embeddings": True, "torch_dtype": "float32",
        "transformers_version": "4.46.0", "use_cache": True, "use_sliding_window": False,
        "vocab_size": 101}),
    # Llama-3.1-style rope_scaling (rope_type key). original_max_position_embeddings 32
    # puts the head_dim-16 frequencies into all three llama3 bands at theta 1e4:
    # i=0 (wavelength 6.3 < 32/4) unchanged, i=1 (19.9) smoothed, i>=2 (> 32) / factor.
    # Explicit head_dim 16 != 40/4; q/k/v/o and MLP biases; untied head.
    "llama3-scaled-untied": dict(seed=13, T=16, layout="pad",
                                 rows=[[(16, 5)], [(12, 4)], [(9, 3)]], config={
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "attention_bias": True, "attention_dropout": 0.0, "bos_token_id": 1,
        "eos_token_id": 88, "head_dim": 16, "hidden_act": "silu", "hidden_size": 40,
        "initializer_range": 0.02, "intermediate_size": 48, "max_position_embeddings": 128,
        "mlp_bias": True, "num_attention_heads": 4, "num_hidden_layers": 2,
        "num_key_value_heads": 2, "pretraining_tp": 1, "rms_norm_eps": 1e-5,
        "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 32, "rope_type": "llama3"},
        "rope_theta": 10000.0, "tie_word_embeddings": False, "torch_dtype": "float32",
        "transformers_version": "4.46.0", "use_cache": True, "vocab_size": 89}),
    # Mistral-style config: GQA 6/3, legacy rope_scaling {"type": "linear"},
    # sliding_window null, untied, packing.
    "linear-scaled": dict(seed=14, T=16, layout="packed",
                          rows=[[(6, 3), (5, 2), (5, 3)], [(9, 3), (4, 2)],
                                [(3, 1), (7, 2), (4, 2)]], config={
        "architectures": ["MistralForCausalLM"], "model_type": "mistral",
        "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 96,
        "hidden_act": "silu", "hidden_size": 48, "initializer_range": 0.02,
        "intermediate_size": 64, "max_position_embeddings": 64, "num_attention_heads": 6,
        "num_hidden_layers": 2, "num_key_value_heads": 3, "rms_norm_eps": 1e-5,
        "rope_scaling": {"type": "linear", "factor": 2.0}, "rope_theta": 10000.0,
        "sliding_window": None, "tie_word_embeddings": False, "torch_dtype": "float32",
        "transformers_version": "4.46.0", "use_cache": True, "vocab_size": 97}),
}


def adam_final_names(cfg):
    """Representative parameters whose post-AdamW values are stored."""
    names = ["model.embed_tokens.weight", "model.layers.0.self_attn.k_proj.weight",
             "model.layers.1.mlp.down_proj.weight", "model.norm.weight"]
    if cfg.qkv_bias:
        names.append("model.layers.0.self_attn.q_proj.bias")
    if cfg.mlp_bias:
        names.append("model.layers.1.mlp.up_proj.bias")
    if not cfg.tie_word_embeddings:
        names.append("lm_head.weight")
    return names


def make_batch(spec, cfg):
    """(forward kwargs, labels, loss_mask, attention_mask, segment ids) for a case."""
    V, T = cfg.vocab_size, spec["T"]
    eos = cfg.eos_token_id
    assert eos == V - 1, "fixtures use pad id = EOS id = V-1"
    ids, labels, attention_mask, loss_mask, seg = gpt2_fixtures.build_batch(
        spec["rows"], T, V, eos, spec["seed"])
    B = ids.shape[0]
    if spec["layout"] == "packed":
        kw = dict(segment_ids=seg, position_ids=ref.positions_from_segments(seg))
    else:
        kw = dict(attention_mask=attention_mask,
                  position_ids=torch.arange(T).expand(B, T).clone())
    kw["input_ids"] = ids
    return kw, labels, loss_mask, attention_mask, seg


def loss_of(params, cfg, kw, labels, loss_mask):
    return ref.masked_loss(ref.forward(params, cfg, **kw), labels, loss_mask)


def run_adam(params, cfg, kw, labels, loss_mask, decay):
    """torch.optim.AdamW for ADAM["steps"] steps: losses before each step, final params."""
    p = {n: t.detach().clone().requires_grad_(True) for n, t in params.items()}
    opt = torch.optim.AdamW(
        [{"params": [p[n] for n in sorted(p) if n in decay], "weight_decay": ADAM["weight_decay"]},
         {"params": [p[n] for n in sorted(p) if n not in decay], "weight_decay": 0.0}],
        lr=ADAM["lr"], betas=tuple(ADAM["betas"]), eps=ADAM["eps"])
    losses = []
    for _ in range(ADAM["steps"]):
        opt.zero_grad()
        loss = loss_of(p, cfg, kw, labels, loss_mask)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return torch.tensor(losses, dtype=torch.float64), {n: t.detach() for n, t in p.items()}


def finite_difference_check(params, cfg, kw, labels, loss_mask, grads, seed):
    """Central differences on 3 random entries of every parameter against autograd."""
    g = torch.Generator().manual_seed(seed)
    h, worst = 1e-5, 0.0
    for n, t in params.items():
        flat = t.view(-1)
        for _ in range(3):
            i = int(torch.randint(0, flat.numel(), (1,), generator=g))
            old = flat[i].item()
            flat[i] = old + h
            lp = loss_of(params, cfg, kw, labels, loss_mask).item()
            flat[i] = old - h
            lm = loss_of(params, cfg, kw, labels, loss_mask).item()
            flat[i] = old
            an = grads[n].view(-1)[i].item()
            worst = max(worst, abs((lp - lm) / (2 * h) - an) / max(1e-3, abs(an)))
    assert worst < 1e-5, f"finite differences disagree with autograd: {worst}"
    return worst


def isolation_check(params, cfg, ids, seg, logits):
    """Each example alone (positions from 0) gives the same logits as inside the batch."""
    worst = 0.0
    for b in range(ids.shape[0]):
        for k in seg[b].unique().tolist():
            if k == 0:
                continue
            idx = (seg[b] == k).nonzero()[:, 0]
            alone = ref.forward(params, cfg, ids[b, idx][None])[0]
            worst = max(worst, (alone - logits[b, idx]).abs().max().item())
    assert worst < 1e-10, f"example logits depend on other examples or padding: {worst}"
    return worst


def float32_gap(params, cfg, kw, labels, loss_mask, real, logits64, loss64, grads64):
    """The same reference run in float32 versus float64: a floor for Java tolerances."""
    p32 = {n: t.float().detach().requires_grad_(True) for n, t in params.items()}
    lg = ref.forward(p32, cfg, **kw)
    loss = ref.masked_loss(lg, labels, loss_mask)
    loss.backward()
    r = real.bool()
    return {
        "logits_abs": (lg.double() - logits64)[r].abs().max().item(),
        "loss_rel": abs(loss.item() - loss64) / abs(loss64),
        "grad_abs": max((p32[n].grad.double() - grads64[n]).abs().max().item() for n in params),
        "grad_max_abs_value": max(grads64[n].abs().max().item() for n in params),
    }


def make_case(name, spec, out_root):
    from check_llama_ref import naive_forward  # independent per-position loop model

    torch.manual_seed(spec["seed"])
    cfg = ref.LlamaConfig(spec["config"])
    kw, labels, loss_mask, attention_mask, seg = make_batch(spec, cfg)
    ids = kw["input_ids"]
    B, T = ids.shape
    packed = spec["layout"] == "packed"

    params = ref.init_params(cfg, seed=spec["seed"], std=INIT["std"], perturb=INIT["perturb"])
    leaf = {n: t.clone().requires_grad_(True) for n, t in params.items()}
    logits = ref.forward(leaf, cfg, **kw)
    ce = ref.token_ce(logits, labels)
    loss = ref.masked_loss(logits, labels, loss_mask)
    loss.backward()
    grads = {n: t.grad.detach() for n, t in leaf.items()}
    logits, ce = logits.detach(), ce.detach()
    for n, gr in grads.items():
        assert gr.abs().max() > 0, f"{name}: parameter {n} gets no gradient"

    real = attention_mask.bool()
    naive = (naive_forward(params, cfg, **kw) - logits)[real].abs().max().item()
    assert naive < 1e-10, f"{name}: naive loop model disagrees: {naive}"
    fd = finite_difference_check({n: t.clone() for n, t in params.items()}, cfg, kw,
                                 labels, loss_mask, grads, spec["seed"])
    iso = isolation_check(params, cfg, ids, seg, logits)
    gap = float32_gap(params, cfg, kw, labels, loss_mask, attention_mask, logits,
                      loss.item(), grads)

    decay = set(ref.decay_param_names(params))
    adam_loss, adam_final = run_adam(params, cfg, kw, labels, loss_mask, decay)
    assert abs(adam_loss[0].item() - loss.item()) < 1e-12
    assert adam_loss[2] < adam_loss[0], f"{name}: AdamW did not reduce the loss: {adam_loss}"

    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    ref.save_checkpoint(params, cfg, out, dtype="F32")
    _, back = ref.load_checkpoint(out)
    assert all(torch.equal(back[n], params[n]) for n in params)

    exp = {"input_ids": ids, "labels": labels, "attention_mask": attention_mask,
           "loss_mask": loss_mask, "position_ids": kw["position_ids"],
           "logits": logits, "ce": ce, "loss": loss.detach().reshape(1),
           "adam.loss": adam_loss, "rope.inv_freq": ref.rope_inv_freq(cfg)}
    if packed:
        exp["segment_ids"] = seg
    for n, gr in grads.items():
        exp["grad." + n] = gr
    finals = adam_final_names(cfg)
    for n in finals:
        exp["adam.final." + n] = adam_final[n]
    int_names = {"input_ids", "labels", "position_ids", "segment_ids"}
    st.save(os.path.join(out, "expected.safetensors"), exp,
            dtypes={n: ("I32" if n in int_names else "F32") for n in exp},
            metadata={"generator": "scripts/reference/make_llama_parity_fixtures.py",
                      "precision": "computed in float64, stored as F32"})

    H, KV = cfg.num_attention_heads, cfg.num_key_value_heads
    case = {
        "case": name,
        "model_type": cfg.model_type,
        "layout": spec["layout"],
        "B": B, "T": T, "V": cfg.vocab_size, "d": cfg.hidden_size, "L": cfg.num_hidden_layers,
        "H": H, "KV": KV, "head_dim": cfg.head_dim, "head_dim_explicit": "head_dim" in cfg.raw,
        "intermediate_size": cfg.intermediate_size, "rms_norm_eps": cfg.rms_norm_eps,
        "rope_theta": cfg.rope_theta, "rope_type": cfg.rope_type, "rope_scaling": cfg.rope,
        "tie_word_embeddings": cfg.tie_word_embeddings,
        "biases": {"q_k_v": cfg.qkv_bias, "o": cfg.o_bias, "mlp": cfg.mlp_bias},
        "sliding_window_effective": cfg.sliding_window,
        "pad_token_id": cfg.eos_token_id, "eos_token_id": cfg.eos_token_id,
        "rows": [[{"length": n, "target_length_incl_eos": m} for n, m in row]
                 for row in spec["rows"]],
        "init": {"seed": spec["seed"], **INIT,
                 "note": "matrices N(0,std); biases N(0,perturb); RMSNorm weights 1+N(0,perturb)"},
        "loss": "sum_t(ce[b,t] * loss_mask[b,t]) / sum(loss_mask); "
                "ce[b,t] = -log_softmax(logits[b,t])[labels[b,t]]",
        "labels": "labels[b,t] = input_ids[b,t+1] (last column = pad id); already shifted",
        "attention": ("causal AND same nonzero segment_ids (packed)" if packed
                      else "causal AND attention_mask[key] == 1"),
        "position_ids": ("restart at 0 at each segment start; padding 0" if packed
                         else "0..T-1 for every row (HF default with right padding)"),
        "gqa": f"query head h uses KV head h // {H // KV}",
        "rope": "rotate-half on the full head_dim; angle = position_ids * rope.inv_freq",
        "compare_logits_where": "attention_mask == 1 (logits at padding are unspecified)",
        "optimizer": {"type": "torch.optim.AdamW", **ADAM,
                      "decay_params": sorted(decay),
                      "no_decay_params": sorted(set(params) - decay),
                      "rule": "weight decay on rank-2 tensors (embed_tokens, every *_proj "
                              "weight, lm_head); none on biases and RMSNorm weights",
                      "grad_clipping": None,
                      "adam.loss": "loss before each of the 3 updates (adam.loss[0] == loss)",
                      "adam.final": finals},
        "expected_tensors": {n: {"shape": list(t.shape),
                                 "dtype": "I32" if n in int_names else "F32"}
                             for n, t in sorted(exp.items()) if not n.startswith("grad.")},
        "grad_tensors": "grad.<hf name> for every parameter, HF shape (nn.Linear [out,in])",
        "reference_self_checks": {"naive_loop_logits_abs": naive,
                                  "finite_difference_err": fd,
                                  "isolation_max_abs": iso,
                                  "float32_vs_float64": gap},
        "suggested_tolerances": {"logits_abs": 1e-4, "loss_rel": 1e-5,
                                 "grad_abs": 1e-5, "grad_rel_of_max": 1e-3,
                                 "adam_loss_rel": 1e-4, "adam_final_abs": 1e-4},
    }
    if cfg.model_type == "qwen2":
        case["notes"] = ["config has sliding_window 64 but use_sliding_window false: "
                         "full attention (HF Qwen2 semantics)"]
    with open(os.path.join(out, "case.json"), "w", encoding="utf-8") as f:
        json.dump(case, f, indent=2)
        f.write("\n")
    return cfg, params, kw


def make_formats(cfg, params, kw, out_root):
    """llama3-scaled-untied's weights as BF16 in 2 shards with a transformers-v5 config
    (rope_parameters holding rope_theta and the llama3 fields)."""
    raw = copy.deepcopy(cfg.raw)
    scaling = raw.pop("rope_scaling")
    theta = raw.pop("rope_theta")
    raw["rope_parameters"] = dict(scaling, rope_theta=theta)
    raw["transformers_version"] = "5.0.0"
    v5 = ref.LlamaConfig(raw)
    assert torch.equal(ref.rope_inv_freq(v5), ref.rope_inv_freq(cfg))
    sub = "rope-parameters-bf16-sharded"
    d = os.path.join(out_root, "formats", sub)
    ref.save_checkpoint(params, v5, d, dtype="BF16", shards=2)
    cfg2, loaded = ref.load_checkpoint(d)
    logits = ref.forward(loaded, cfg2, **kw)
    st.save(os.path.join(d, "expected.safetensors"),
            {"input_ids": kw["input_ids"], "attention_mask": kw["attention_mask"],
             "position_ids": kw["position_ids"], "logits": logits},
            dtypes={"input_ids": "I32", "position_ids": "I32",
                    "attention_mask": "F32", "logits": "F32"})
    with open(os.path.join(out_root, "formats", "case.json"), "w", encoding="utf-8") as f:
        json.dump({
            "about": "the llama3-scaled-untied case's weights in another on-disk layout; inputs "
                     "are that case's; expected logits are computed in float64 from the "
                     "BF16-rounded weights (compare where attention_mask == 1, abs 1e-4)",
            "variants": {sub: {"dtype": "BF16", "shards": 2, "files": sorted(os.listdir(d)),
                               "config": "transformers-v5 style: rope_parameters = {rope_type, "
                                         "rope_theta, factor, low_freq_factor, high_freq_factor, "
                                         "original_max_position_embeddings}; no top-level "
                                         "rope_theta or rope_scaling"}}}, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)  # bitwise-reproducible reductions
    made = {name: make_case(name, spec, args.out) for name, spec in CASES.items()}
    make_formats(*made["llama3-scaled-untied"], args.out)
    total = 0
    for root, _, files in sorted(os.walk(args.out)):
        size = sum(os.path.getsize(os.path.join(root, f)) for f in files)
        total += size
        if files:
            print(f"{os.path.relpath(root, args.out):40s} {size / 1024:8.1f} KiB")
    print(f"{'total':40s} {total / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
