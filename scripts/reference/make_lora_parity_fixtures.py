#!/usr/bin/python3
"""Writes the LoRA parity fixtures under src/test/resources/parity-lora/ (issue 13).

Each case directory <case>/ holds:
  base/config.json, base/model.safetensors   the frozen base (HF layout, as parity/ and
                                             parity-llama/; one case stores it as BF16)
  adapter/adapter_config.json                PEFT's LoRA config (see lora_ref.py)
  adapter/adapter_model.safetensors          F32 base_model.model.<module path>.lora_A.weight
                                             [r, in] and .lora_B.weight [out, r]; B is random
                                             (not PEFT's zeros) so the adapter path matters
  expected.safetensors                       computed in float64, stored F32 (ids I32):
      input_ids, labels, attention_mask, loss_mask, position_ids, segment_ids (packed
      only): as the GPT-2 fixtures;
      logits [B,T,V], ce [B,T], loss [1]        base + adapter (unmerged), dropout off;
      logits_base [B,T,V]                       the base alone (= any adapter with B = 0);
      grad.<adapter tensor name>                gradient of loss w.r.t. every A and B (the
                                                base gets none: it is frozen);
      adam.loss [3], adam.final.<adapter tensor name>  3 AdamW steps on A and B only
                                                (every A and B stored after step 3);
      merged.<HF param name>                    W + s*B@A of every targeted base weight
                                                (Conv1D: (B@A) transposed), as `merge` writes
  case.json                                  sizes, LoRA settings, definitions, self-checks

Loss, masks, positions and AdamW settings are those of the GPT-2 fixtures: mean CE
over loss_mask, torch.optim.AdamW(lr 1e-2, betas (0.9, 0.999), eps 1e-8); A and B are
rank-2, so weight_decay 0.1 applies to both; no clipping.

Run: /usr/bin/python3 scripts/reference/make_lora_parity_fixtures.py  (deterministic)
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
import gpt2_ref  # noqa: E402
import llama_ref  # noqa: E402
import lora_ref  # noqa: E402
import make_llama_parity_fixtures as llama_fixtures  # noqa: E402
import make_parity_fixtures as gpt2_fixtures  # noqa: E402
import safetensors_io as st  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "src", "test", "resources", "parity-lora")
ADAM = gpt2_fixtures.ADAM
INIT = {"std": 0.2, "perturb": 0.1, "lora_B_std": 0.2}

CASES = {
    # GPT-2: fused c_attn, and "c_proj" hitting both attn.c_proj and mlp.c_proj.
    "gpt2-attn-proj": dict(
        family="gpt2", seed=21, T=16, layout="pad", rows=gpt2_fixtures.CASES["pad"]["rows"],
        base=gpt2_fixtures.CASES["pad"]["cfg"], base_dtype="F32",
        lora=dict(r=4, lora_alpha=8, target_modules=["c_attn", "c_proj"],
                  fan_in_fan_out=True, use_rslora=False)),
    # Qwen2 (biased q/k/v) with rsLoRA (s = alpha / sqrt(r)), packing, base stored BF16:
    # the expected values are computed from the BF16 weights, so they hold whether the
    # engine keeps the frozen base in fp32 or bf16.
    "qwen2-qv-rslora-bf16": dict(
        family="llama", seed=22, T=16, layout="packed",
        rows=llama_fixtures.CASES["qwen2-mqa-packed"]["rows"],
        base=llama_fixtures.CASES["qwen2-mqa-packed"]["config"], base_dtype="BF16",
        lora=dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                  fan_in_fan_out=False, use_rslora=True)),
    # Every Llama projection (what "all-linear" means for this family), listed in
    # another order than the model's, GQA, tied head, right padding.
    "llama-all-linear": dict(
        family="llama", seed=23, T=16, layout="pad",
        rows=llama_fixtures.CASES["llama-gqa-pad"]["rows"],
        base=llama_fixtures.CASES["llama-gqa-pad"]["config"], base_dtype="F32",
        lora=dict(r=2, lora_alpha=4,
                  target_modules=sorted(lora_ref.LLAMA_MODULES),
                  fan_in_fan_out=False, use_rslora=False)),
}


def base_model(spec):
    if spec["family"] == "gpt2":
        c = spec["base"]
        cfg = gpt2_ref.GPT2Config(bos_token_id=c["vocab_size"] - 1,
                                  eos_token_id=c["vocab_size"] - 1, **c)
        params = gpt2_ref.init_params(cfg, seed=spec["seed"], std=INIT["std"],
                                      perturb=INIT["perturb"])
        return cfg, params, gpt2_ref
    cfg = llama_ref.LlamaConfig(copy.deepcopy(spec["base"]))
    params = llama_ref.init_params(cfg, seed=spec["seed"], std=INIT["std"],
                                   perturb=INIT["perturb"])
    return cfg, params, llama_ref


def make_batch(spec, V):
    ids, labels, attention_mask, loss_mask, seg = gpt2_fixtures.build_batch(
        spec["rows"], spec["T"], V, V - 1, spec["seed"])
    B, T = ids.shape
    if spec["layout"] == "packed":
        kw = dict(segment_ids=seg, position_ids=gpt2_ref.positions_from_segments(seg))
    else:
        kw = dict(attention_mask=attention_mask, position_ids=torch.arange(T).expand(B, T).clone())
    kw["input_ids"] = ids
    return kw, labels, loss_mask, attention_mask, seg


def lora_loss(params, cfg, adapter, lcfg, kw, labels, loss_mask):
    return gpt2_ref.masked_loss(lora_ref.forward(params, cfg, adapter, lcfg, **kw),
                                labels, loss_mask)


def finite_difference_check(params, cfg, adapter, lcfg, kw, labels, loss_mask, grads, seed):
    g = torch.Generator().manual_seed(seed)
    h, worst = 1e-5, 0.0
    for path, pair in adapter.items():
        for which, t in zip(("A", "B"), pair):
            flat = t.view(-1)
            for _ in range(3):
                i = int(torch.randint(0, flat.numel(), (1,), generator=g))
                old = flat[i].item()
                flat[i] = old + h
                lp = lora_loss(params, cfg, adapter, lcfg, kw, labels, loss_mask).item()
                flat[i] = old - h
                lm = lora_loss(params, cfg, adapter, lcfg, kw, labels, loss_mask).item()
                flat[i] = old
                an = grads[(path, which)].view(-1)[i].item()
                worst = max(worst, abs((lp - lm) / (2 * h) - an) / max(1e-3, abs(an)))
    assert worst < 1e-5, f"finite differences disagree with autograd: {worst}"
    return worst


def make_case(name, spec, out_root):
    from check_llama_ref import naive_forward

    torch.manual_seed(spec["seed"])
    cfg, params, ref = base_model(spec)
    if spec["base_dtype"] == "BF16":
        params = {n: t.float().to(torch.bfloat16).to(torch.float64) for n, t in params.items()}
    V = cfg.vocab_size
    kw, labels, loss_mask, attention_mask, seg = make_batch(spec, V)
    lcfg = lora_ref.LoraConfig(base_model_name_or_path="../base", lora_dropout=0.0,
                               **spec["lora"])
    adapter = lora_ref.init_adapter(cfg, lcfg, seed=100 + spec["seed"], b_std=INIT["lora_B_std"])
    real = attention_mask.bool()

    # Base + adapter, with gradients for A and B only.
    leaf = {p: (a.clone().requires_grad_(True), b.clone().requires_grad_(True))
            for p, (a, b) in adapter.items()}
    logits = lora_ref.forward(params, cfg, leaf, lcfg, **kw)
    ce = gpt2_ref.token_ce(logits, labels)
    loss = gpt2_ref.masked_loss(logits, labels, loss_mask)
    loss.backward()
    grads = {}
    for p, (a, b) in leaf.items():
        grads[(p, "A")], grads[(p, "B")] = a.grad.detach(), b.grad.detach()
    logits, ce = logits.detach(), ce.detach()
    for k, gr in grads.items():
        assert gr.abs().max() > 0, f"{name}: {k} gets no gradient"

    # Self-checks.
    logits_base = ref.forward(params, cfg, **kw)
    zero_b = {p: (a, torch.zeros_like(b)) for p, (a, b) in adapter.items()}
    assert torch.equal(lora_ref.forward(params, cfg, zero_b, lcfg, **kw), logits_base), \
        f"{name}: B = 0 does not give the base's logits exactly"
    merged = lora_ref.merge(params, cfg, adapter, lcfg)
    merged_gap = (ref.forward(merged, cfg, **kw) - logits)[real].abs().max().item()
    assert merged_gap < 1e-12, f"{name}: merged model differs from base + adapter: {merged_gap}"
    naive_gap = None
    if spec["family"] == "llama":
        naive_gap = (naive_forward(merged, cfg, **kw) - logits)[real].abs().max().item()
        assert naive_gap < 1e-12, f"{name}: naive loop model on merged weights: {naive_gap}"
    effect = (logits - logits_base)[real].abs().max().item()
    fd = finite_difference_check(params, cfg, {p: (a.clone(), b.clone())
                                               for p, (a, b) in adapter.items()},
                                 lcfg, kw, labels, loss_mask, grads, spec["seed"])
    p32 = {n: t.float() for n, t in params.items()}
    a32 = {p: (a.float().requires_grad_(True), b.float().requires_grad_(True))
           for p, (a, b) in adapter.items()}
    lg32 = lora_ref.forward(p32, cfg, a32, lcfg, **kw)
    gpt2_ref.masked_loss(lg32, labels, loss_mask).backward()
    gap = {"logits_abs": (lg32.double() - logits)[real].abs().max().item(),
           "grad_abs": max(max((a.grad.double() - grads[(p, "A")]).abs().max().item(),
                               (b.grad.double() - grads[(p, "B")]).abs().max().item())
                           for p, (a, b) in a32.items()),
           "grad_max_abs_value": max(g.abs().max().item() for g in grads.values())}

    # 3 AdamW steps on A and B only; the base must not move.
    train = {p: (a.clone().requires_grad_(True), b.clone().requires_grad_(True))
             for p, (a, b) in adapter.items()}
    flat = [t for p in train for t in train[p]]
    opt = torch.optim.AdamW(flat, lr=ADAM["lr"], betas=tuple(ADAM["betas"]), eps=ADAM["eps"],
                            weight_decay=ADAM["weight_decay"])
    before = {n: t.clone() for n, t in params.items()}
    adam_loss = []
    for _ in range(ADAM["steps"]):
        opt.zero_grad()
        step_loss = lora_loss(params, cfg, train, lcfg, kw, labels, loss_mask)
        adam_loss.append(step_loss.item())
        step_loss.backward()
        opt.step()
    adam_loss = torch.tensor(adam_loss, dtype=torch.float64)
    assert all(torch.equal(before[n], params[n]) for n in params)
    assert abs(adam_loss[0].item() - loss.item()) < 1e-12
    assert adam_loss[2] < adam_loss[0], f"{name}: AdamW did not reduce the loss: {adam_loss}"

    # Files.
    out = os.path.join(out_root, name)
    base_dir, adapter_dir = os.path.join(out, "base"), os.path.join(out, "adapter")
    ref.save_checkpoint(params, cfg, base_dir, dtype=spec["base_dtype"])
    _, back = ref.load_checkpoint(base_dir)
    assert all(torch.equal(back[n], params[n]) for n in params)
    lora_ref.save_adapter(adapter, lcfg, adapter_dir)
    lcfg2, adapter2 = lora_ref.load_adapter(adapter_dir, cfg)
    assert lcfg2.scaling == lcfg.scaling
    assert all(torch.equal(adapter2[p][k], adapter[p][k]) for p in adapter for k in (0, 1))

    exp = {"input_ids": kw["input_ids"], "labels": labels, "attention_mask": attention_mask,
           "loss_mask": loss_mask, "position_ids": kw["position_ids"], "logits": logits,
           "ce": ce, "loss": loss.detach().reshape(1), "logits_base": logits_base,
           "adam.loss": adam_loss}
    if spec["layout"] == "packed":
        exp["segment_ids"] = seg
    mods = lora_ref.linear_modules(cfg)
    for p in adapter:
        na, nb = lora_ref.peft_names(p)
        exp["grad." + na], exp["grad." + nb] = grads[(p, "A")], grads[(p, "B")]
        exp["adam.final." + na] = train[p][0].detach()
        exp["adam.final." + nb] = train[p][1].detach()
        wname = mods[p][0]
        exp["merged." + wname] = merged[wname]
    int_names = {"input_ids", "labels", "position_ids", "segment_ids"}
    st.save(os.path.join(out, "expected.safetensors"), exp,
            dtypes={n: ("I32" if n in int_names else "F32") for n in exp},
            metadata={"generator": "scripts/reference/make_lora_parity_fixtures.py",
                      "precision": "computed in float64, stored as F32"})

    case = {
        "case": name, "family": spec["family"],
        "model_type": "gpt2" if spec["family"] == "gpt2" else cfg.model_type,
        "layout": spec["layout"], "B": int(kw["input_ids"].shape[0]), "T": spec["T"], "V": V,
        "base_dtype": spec["base_dtype"],
        "lora": {**spec["lora"], "lora_dropout": 0.0, "scaling": lcfg.scaling,
                 "scaling_rule": "lora_alpha / sqrt(r)" if lcfg.use_rslora
                 else "lora_alpha / r"},
        "targeted_modules": list(adapter),
        "adapter_tensors": {n: list(t.shape) for n, t in lora_ref.adapter_tensors(adapter).items()},
        "init": {"seed": spec["seed"], **INIT,
                 "note": "base as the parity fixtures; lora_A U(-1/sqrt(in), 1/sqrt(in)) "
                         "(PEFT's kaiming_uniform a=sqrt(5)); lora_B N(0, lora_B_std) instead "
                         "of PEFT's zeros so the adapter changes the outputs"},
        "forward": "y = base(x) + scaling * (x @ lora_A.T) @ lora_B.T on every targeted module "
                   "(unmerged; dropout 0)",
        "merge": "W + scaling * lora_B @ lora_A (nn.Linear [out,in]); for GPT-2 Conv1D "
                 "[in,out] the delta is transposed",
        "loss": "sum_t(ce[b,t] * loss_mask[b,t]) / sum(loss_mask), as the parity fixtures",
        "compare_logits_where": "attention_mask == 1",
        "optimizer": {"type": "torch.optim.AdamW", **ADAM, "params": "every lora_A and lora_B "
                      "(weight_decay applies to all of them); base frozen, bit-identical after "
                      "the 3 steps", "grad_clipping": None,
                      "adam.loss": "loss before each of the 3 updates (adam.loss[0] == loss)"},
        "reference_self_checks": {
            "adapter_effect_max_abs_logit": effect,
            "zero_B_equals_base": "bitwise",
            "merged_vs_unmerged_logits_abs": merged_gap,
            "naive_loop_on_merged_weights_logits_abs": naive_gap,
            "finite_difference_err": fd,
            "float32_vs_float64": gap},
        "suggested_tolerances": {"logits_abs": 1e-4, "loss_rel": 1e-5, "grad_rel_of_max": 1e-4,
                                 "adam_loss_rel": 1e-4, "adam_final_abs": 2e-5,
                                 "merged_abs": 1e-6},
    }
    with open(os.path.join(out, "case.json"), "w", encoding="utf-8") as f:
        json.dump(case, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)
    for name, spec in CASES.items():
        make_case(name, spec, args.out)
    total = 0
    for root, _, files in sorted(os.walk(args.out)):
        size = sum(os.path.getsize(os.path.join(root, f)) for f in files)
        total += size
        if files:
            print(f"{os.path.relpath(root, args.out):40s} {size / 1024:8.1f} KiB")
    print(f"{'total':40s} {total / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
