#!/usr/bin/python3
"""Writes the GPT-2 parity fixtures under src/test/resources/parity/.

Each case directory holds a random F32 checkpoint (config.json + model.safetensors),
expected.safetensors with inputs and float64-computed results stored as F32/I32,
and case.json describing sizes, optimizer settings and suggested tolerances.
Run from anywhere: /usr/bin/python3 scripts/reference/make_parity_fixtures.py
Output is deterministic (fixed seeds, single thread).
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
import gpt2_ref as ref  # noqa: E402
import safetensors_io as st  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "src", "test", "resources", "parity")

ADAM = {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1, "steps": 3}
# std 0.2 (not HF's 0.02) makes attention and softmax far from uniform, so a wrong
# scale, mask or head split changes the numbers visibly instead of by 1e-6.
INIT = {"std": 0.2, "perturb": 0.1}
# Representative parameters whose post-AdamW values are stored (all would be too big).
ADAM_FINAL = ["wte.weight", "h.0.attn.c_attn.weight", "ln_f.bias"]

# Rows are lists of (example length, target length); the target includes the final EOS.
CASES = {
    "pad": dict(cfg=dict(vocab_size=101, n_positions=32, n_embd=32, n_layer=2, n_head=4,
                         layer_norm_epsilon=1e-5, tie_word_embeddings=True),
                T=16, layout="pad", seed=1,
                rows=[[(16, 5)], [(11, 4)], [(7, 3)]]),
    "packed": dict(cfg=dict(vocab_size=101, n_positions=32, n_embd=32, n_layer=2, n_head=4,
                            layer_norm_epsilon=1e-5, tie_word_embeddings=True),
                   T=16, layout="packed", seed=2,
                   rows=[[(6, 3), (5, 2), (5, 3)],      # fills the row exactly
                         [(7, 3), (4, 2)],              # 5 pads
                         [(3, 1), (5, 2), (4, 2)]]),    # 4 pads; first target is EOS only
    "untied": dict(cfg=dict(vocab_size=67, n_positions=16, n_embd=24, n_layer=1, n_head=3,
                            layer_norm_epsilon=1e-6, tie_word_embeddings=False),
                   T=8, layout="pad", seed=3,
                   rows=[[(8, 3)], [(5, 2)]]),
}


def build_batch(rows, T, V, eos, seed):
    """Token ids, shifted labels, masks, segment and position ids for one batch.

    Every example is prompt ++ target ++ [EOS] with random non-EOS tokens. Labels are
    the whole row shifted left by one (last column: EOS used as pad), so labels that
    cross an example boundary exist but carry loss_mask 0. loss_mask[t] = 1 iff
    labels[t] is a target or EOS token of the same example as position t.
    """
    g = torch.Generator().manual_seed(1000 + seed)
    B = len(rows)
    ids = torch.full((B, T), eos, dtype=torch.long)  # pad id = EOS, GPT-2's convention
    seg = torch.zeros(B, T, dtype=torch.long)
    loss_mask = torch.zeros(B, T, dtype=torch.float64)
    for b, row in enumerate(rows):
        t0 = 0
        for k, (n, m) in enumerate(row):
            assert 1 <= m < n and t0 + n <= T
            toks = torch.randint(0, V - 1, (n,), generator=g)
            toks[-1] = eos
            ids[b, t0:t0 + n] = toks
            seg[b, t0:t0 + n] = k + 1
            # positions t predicting the target span [t0+n-m, t0+n-1]
            loss_mask[b, t0 + n - m - 1:t0 + n - 1] = 1.0
            t0 += n
    labels = torch.cat([ids[:, 1:], torch.full((B, 1), eos, dtype=torch.long)], dim=1)
    attention_mask = (seg != 0).to(torch.float64)
    return ids, labels, attention_mask, loss_mask, seg


def run_adam(params, cfg, batch_kwargs, labels, loss_mask, decay):
    """Plain torch AdamW for ADAM["steps"] steps; returns losses before each step and
    the final parameters. Decoupled decay: p *= 1 - lr*wd, then the Adam update with
    bias correction, eps added to sqrt(v_hat)."""
    p = {n: t.detach().clone().requires_grad_(True) for n, t in params.items()}
    opt = torch.optim.AdamW(
        [{"params": [p[n] for n in sorted(p) if n in decay], "weight_decay": ADAM["weight_decay"]},
         {"params": [p[n] for n in sorted(p) if n not in decay], "weight_decay": 0.0}],
        lr=ADAM["lr"], betas=tuple(ADAM["betas"]), eps=ADAM["eps"])
    losses = []
    for _ in range(ADAM["steps"]):
        opt.zero_grad()
        loss = ref.masked_loss(ref.forward(p, cfg, **batch_kwargs), labels, loss_mask)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return torch.tensor(losses, dtype=torch.float64), {n: t.detach() for n, t in p.items()}


def finite_difference_check(params, cfg, batch_kwargs, labels, loss_mask, grads, seed):
    """Central differences on a few entries of every parameter: guards the reference
    itself against autograd-vs-intent mistakes (e.g. a detached tensor)."""
    g = torch.Generator().manual_seed(seed)
    h = 1e-5
    worst = 0.0
    for n, t in params.items():
        flat = t.view(-1)
        for _ in range(3):
            i = int(torch.randint(0, flat.numel(), (1,), generator=g))
            old = flat[i].item()
            flat[i] = old + h
            lp = ref.masked_loss(ref.forward(params, cfg, **batch_kwargs), labels, loss_mask).item()
            flat[i] = old - h
            lm = ref.masked_loss(ref.forward(params, cfg, **batch_kwargs), labels, loss_mask).item()
            flat[i] = old
            fd = (lp - lm) / (2 * h)
            an = grads[n].view(-1)[i].item()
            # float64 central differences with h=1e-5 are good to ~1e-10 absolute
            worst = max(worst, abs(fd - an) / max(1e-3, abs(an)))
    assert worst < 1e-5, f"finite differences disagree with autograd: {worst}"
    return worst


def isolation_check(params, cfg, ids, seg, logits):
    """Each example run alone must give the same logits as inside the batch: this is
    the property that a leaking pad or pack mask breaks."""
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


def float32_gap(params, cfg, batch_kwargs, labels, loss_mask, real, logits64, loss64, grads64):
    """Max error of the same reference run in float32: a floor for Java tolerances."""
    p32 = {n: t.float().detach().requires_grad_(True) for n, t in params.items()}
    lg = ref.forward(p32, cfg, **batch_kwargs)
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
    torch.manual_seed(spec["seed"])
    cfg = ref.GPT2Config(bos_token_id=spec["cfg"]["vocab_size"] - 1,
                         eos_token_id=spec["cfg"]["vocab_size"] - 1, **spec["cfg"])
    V, T, eos = cfg.vocab_size, spec["T"], cfg.eos_token_id
    ids, labels, attention_mask, loss_mask, seg = build_batch(spec["rows"], T, V, eos, spec["seed"])
    B = ids.shape[0]
    packed = spec["layout"] == "packed"
    if packed:
        position_ids = ref.positions_from_segments(seg)
        batch_kwargs = dict(segment_ids=seg, position_ids=position_ids)
    else:
        position_ids = torch.arange(T).expand(B, T).clone()  # HF default for right padding
        batch_kwargs = dict(attention_mask=attention_mask, position_ids=position_ids)
    batch_kwargs["input_ids"] = ids

    params = ref.init_params(cfg, seed=spec["seed"], std=INIT["std"], perturb=INIT["perturb"])
    leaf = {n: t.clone().requires_grad_(True) for n, t in params.items()}
    logits = ref.forward(leaf, cfg, **batch_kwargs)
    ce = ref.token_ce(logits, labels)
    loss = ref.masked_loss(logits, labels, loss_mask)
    loss.backward()
    grads = {n: t.grad.detach() for n, t in leaf.items()}
    logits, ce = logits.detach(), ce.detach()
    for n, gr in grads.items():
        assert gr.abs().max() > 0, f"{name}: parameter {n} gets no gradient"

    fd = finite_difference_check({n: t.clone() for n, t in params.items()}, cfg, batch_kwargs,
                                 labels, loss_mask, grads, spec["seed"])
    iso = isolation_check(params, cfg, ids, seg, logits)
    gap = float32_gap(params, cfg, batch_kwargs, labels, loss_mask, attention_mask,
                      logits, loss.item(), grads)

    decay = set(ref.decay_param_names(params))
    adam_loss, adam_final = run_adam(params, cfg, batch_kwargs, labels, loss_mask, decay)
    assert abs(adam_loss[0].item() - loss.item()) < 1e-12
    assert adam_loss[2] < adam_loss[0], f"{name}: AdamW did not reduce the loss: {adam_loss}"

    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    ref.save_checkpoint(params, cfg, out, dtype="F32")
    # The stored F32 file must hold exactly the weights used above.
    _, back = ref.load_checkpoint(out)
    assert all(torch.equal(back[n], params[n]) for n in params)

    exp = {"input_ids": ids, "labels": labels, "attention_mask": attention_mask,
           "loss_mask": loss_mask, "position_ids": position_ids,
           "logits": logits, "ce": ce, "loss": loss.detach().reshape(1),
           "adam.loss": adam_loss}
    if packed:
        exp["segment_ids"] = seg
    for n, gr in grads.items():
        exp["grad." + n] = gr
    finals = ADAM_FINAL + (["lm_head.weight"] if not cfg.tie_word_embeddings else [])
    for n in finals:
        exp["adam.final." + n] = adam_final[n]
    int_names = {"input_ids", "labels", "position_ids", "segment_ids"}
    st.save(os.path.join(out, "expected.safetensors"), exp,
            dtypes={n: ("I32" if n in int_names else "F32") for n in exp},
            metadata={"generator": "scripts/reference/make_parity_fixtures.py",
                      "precision": "computed in float64, stored as F32"})

    case = {
        "case": name,
        "layout": spec["layout"],
        "B": B, "T": T, "V": V, "d": cfg.n_embd, "L": cfg.n_layer, "H": cfg.n_head,
        "n_positions": cfg.n_positions, "layer_norm_epsilon": cfg.layer_norm_epsilon,
        "tie_word_embeddings": cfg.tie_word_embeddings,
        "pad_token_id": eos, "eos_token_id": eos,
        "rows": [[{"length": n, "target_length_incl_eos": m} for n, m in row] for row in spec["rows"]],
        "init": {"seed": spec["seed"], **INIT,
                 "note": "weights N(0,std), c_proj weights N(0,std/sqrt(2L)); biases and "
                         "LayerNorm perturbed by N(0,perturb)"},
        "loss": "sum_t(ce[b,t] * loss_mask[b,t]) / sum(loss_mask); ce[b,t] = -log_softmax(logits[b,t])[labels[b,t]]",
        "labels": "labels[b,t] = input_ids[b,t+1] (last column = pad id); already shifted",
        "attention": ("causal AND same nonzero segment_ids (packed)" if packed
                      else "causal AND attention_mask[key] == 1"),
        "position_ids": ("restart at 0 at each segment start; padding 0" if packed
                         else "0..T-1 for every row (HF default with right padding)"),
        "compare_logits_where": "attention_mask == 1 (logits at padding are unspecified)",
        "optimizer": {"type": "torch.optim.AdamW", **ADAM,
                      "decay_params": sorted(decay),
                      "no_decay_params": sorted(set(params) - decay),
                      "rule": "weight decay on rank-2 weights (wte, wpe, c_attn/c_proj/c_fc "
                              "weights, lm_head); none on biases and LayerNorm",
                      "grad_clipping": None,
                      "adam.loss": "loss before each of the 3 updates (adam.loss[0] == loss)",
                      "adam.final": finals},
        "expected_tensors": {n: {"shape": list(t.shape), "dtype": "I32" if n in int_names else "F32"}
                             for n, t in sorted(exp.items()) if not n.startswith("grad.")},
        "grad_tensors": "grad.<hf name> for every parameter, HF shape (Conv1D [in,out])",
        "grad_notes": ["the key third of attn.c_attn.bias ([d:2d]) has a mathematically zero "
                       "gradient (softmax ignores a per-query constant): compare grads with an "
                       "absolute tolerance, and never compare Adam updates of that slice",
                       "wpe rows of positions never used by a real token have zero gradient"],
        "reference_self_checks": {"finite_difference_err": fd,
                                  "isolation_max_abs": iso,
                                  "float32_vs_float64": gap},
        "suggested_tolerances": {"logits_abs": 1e-4, "loss_rel": 1e-5,
                                 "grad_abs": 1e-5, "grad_rel_of_max": 1e-3,
                                 "adam_loss_rel": 1e-4, "adam_final_abs": 1e-4},
    }
    with open(os.path.join(out, "case.json"), "w", encoding="utf-8") as f:
        json.dump(case, f, indent=2)
        f.write("\n")
    return cfg, params, batch_kwargs, out


def make_formats(untied_params, untied_cfg, untied_batch, out_root):
    """The `untied` weights (and a tied sibling) written in the other layouts a loader
    must accept. Expected logits use the dtype-rounded weights, so a loader that reads
    F16/BF16 correctly must match as tightly as the F32 cases."""
    base = os.path.join(out_root, "formats")
    cases = {}
    kw = {k: v for k, v in untied_batch.items()}

    def write(sub, params, cfg, **save_kw):
        d = os.path.join(base, sub)
        ref.save_checkpoint(params, cfg, d, **save_kw)
        cfg2, loaded = ref.load_checkpoint(d)  # float64 view of what the file holds
        logits = ref.forward(loaded, cfg2, **kw)
        st.save(os.path.join(d, "expected.safetensors"),
                {"input_ids": kw["input_ids"], "attention_mask": kw["attention_mask"],
                 "position_ids": kw["position_ids"], "logits": logits},
                dtypes={"input_ids": "I32", "position_ids": "I32",
                        "attention_mask": "F32", "logits": "F32"})
        cases[sub] = dict(save_kw, tie_word_embeddings=cfg.tie_word_embeddings,
                          files=sorted(os.listdir(d)))

    write("f16", untied_params, untied_cfg, dtype="F16")
    write("bf16-sharded-prefixed", untied_params, untied_cfg, dtype="BF16",
          prefix="transformer.", shards=3, attn_bias_buffers=True)
    # Tied sibling, stored the way some converted checkpoints are: prefixed, with a
    # redundant copy of wte as lm_head.weight that a tied loader must accept.
    tied_cfg = copy.copy(untied_cfg)
    tied_cfg.tie_word_embeddings = False  # temporarily, to have save_checkpoint write lm_head
    tied = {n: t for n, t in untied_params.items()}
    tied["lm_head.weight"] = tied["wte.weight"]
    d = os.path.join(base, "tied-prefixed-redundant-head")
    ref.save_checkpoint(tied, tied_cfg, d, dtype="F32", prefix="transformer.")
    tied_cfg.tie_word_embeddings = True
    tied_cfg.save(d)
    cfg2, loaded = ref.load_checkpoint(d)
    assert cfg2.tie_word_embeddings and "lm_head.weight" not in loaded
    logits = ref.forward(loaded, cfg2, **kw)
    st.save(os.path.join(d, "expected.safetensors"),
            {"input_ids": kw["input_ids"], "attention_mask": kw["attention_mask"],
             "position_ids": kw["position_ids"], "logits": logits},
            dtypes={"input_ids": "I32", "position_ids": "I32",
                    "attention_mask": "F32", "logits": "F32"})
    cases["tied-prefixed-redundant-head"] = dict(dtype="F32", prefix="transformer.",
                                                 tie_word_embeddings=True,
                                                 files=sorted(os.listdir(d)))
    with open(os.path.join(base, "case.json"), "w", encoding="utf-8") as f:
        json.dump({
            "about": "the `untied` case's weights in other on-disk layouts; inputs are the "
                     "`untied` case's; expected logits are computed in float64 from the "
                     "dtype-rounded weights (compare where attention_mask == 1, abs 1e-4)",
            "notes": ["with prefix 'transformer.', lm_head.weight stays unprefixed (GPT2LMHeadModel)",
                      "h.{i}.attn.bias [1,1,P,P] are causal-mask buffers, not parameters: ignore",
                      "tied-prefixed-redundant-head: tie_word_embeddings true but lm_head.weight "
                      "stored too (equal to wte); use wte"],
            "variants": cases}, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)  # bitwise-reproducible reductions
    made = {}
    for name, spec in CASES.items():
        made[name] = make_case(name, spec, args.out)
    cfg, params, batch_kwargs, _ = made["untied"]
    make_formats(params, cfg, batch_kwargs, args.out)
    for root, _, files in sorted(os.walk(args.out)):
        size = sum(os.path.getsize(os.path.join(root, f)) for f in files)
        if files:
            print(f"{os.path.relpath(root, args.out):40s} {size / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
