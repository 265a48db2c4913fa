#!/usr/bin/env python3
"""Optional cross-check of the committed fixtures against Hugging Face transformers and
PEFT themselves (never needed by the build or CI; the references do not import them).

For every case of parity/ (GPT-2) and parity-llama/ it loads the checkpoint with AutoModelForCausalLM
(eager attention, float64), computes the fixture's loss definition and compares logits,
loss and every parameter gradient with expected.safetensors; for parity-lora/ it loads
base/ + adapter/ with PeftModel and compares logits, loss, the gradients of every
lora_A/lora_B and merge_and_unload()'s weights. Packed rows run one example at a time
with positions from 0 (the fixtures' block-diagonal attention is equivalent to that).

Needs a Python with torch, transformers and peft, e.g. a throwaway venv:
  python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install torch transformers peft
  /tmp/hfvenv/bin/python scripts/reference/crosscheck_hf.py
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RES = os.path.join(REPO, "src", "test", "resources")


def run_batch(model, e):
    """(logits [B,T,V] with unused positions zero, loss) under the fixture's definitions."""
    ids = e["input_ids"].long()
    B, T = ids.shape
    labels, mask = e["labels"].long(), e["loss_mask"]
    logits = torch.zeros(B, T, model.config.vocab_size, dtype=torch.float64)
    if "segment_ids" in e:
        pieces = []
        for b in range(B):
            for k in e["segment_ids"][b].unique().tolist():
                if k == 0:
                    continue
                idx = (e["segment_ids"][b] == k).nonzero()[:, 0]
                out = model(input_ids=ids[b, idx][None],
                            position_ids=torch.arange(len(idx))[None]).logits[0]
                pieces.append((b, idx, out))
        full = logits.clone()
        for b, idx, out in pieces:
            full = full.index_put((torch.full_like(idx, b), idx), out)
        logits = full
    else:
        logits = model(input_ids=ids, attention_mask=e["attention_mask"].long(),
                       position_ids=e["position_ids"].long()).logits
    logp = torch.log_softmax(logits, dim=-1)
    ce = -logp.gather(-1, labels[..., None])[..., 0]
    loss = (ce * mask).sum() / mask.sum()
    return logits, loss


def real_of(e):
    return (e["segment_ids"] != 0) if "segment_ids" in e else e["attention_mask"].bool()


def compare(label, model, e, grad_names):
    logits, loss = run_batch(model, e)
    loss.backward()
    real = real_of(e)
    lerr = (logits.detach() - e["logits"])[real].abs().max().item()
    loss_rel = abs(loss.item() - e["loss"].item()) / abs(e["loss"].item())
    worst, n = 0.0, 0
    params = dict(model.named_parameters())
    for hf_name, fixture_name in grad_names(params):
        ref = e["grad." + fixture_name]
        got = params[hf_name].grad
        worst = max(worst, (got - ref).abs().max().item() / ref.abs().max().item())
        n += 1
    print(f"{label:36s} logits max|d| {lerr:.2e}  loss rel {loss_rel:.2e}  "
          f"grads ({n}) max|d|/max|ref| {worst:.2e}")
    return lerr < 1e-5 and loss_rel < 1e-6 and worst < 1e-5


def main():
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(1)
    ok = True
    for case in ("pad", "packed", "untied"):  # the GPT-2 fixtures too
        d = os.path.join(RES, "parity", case)
        e = st.load(os.path.join(d, "expected.safetensors"))
        m = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager",
                                                 dtype=torch.float64).eval()
        ok &= compare("gpt2/" + case, m, e,
                      lambda ps: [(n, n[len("transformer."):] if n.startswith("transformer.")
                                   else n) for n in ps])
    root = os.path.join(RES, "parity-llama")
    for case in sorted(os.listdir(root)):
        d = os.path.join(root, case)
        if case == "formats":
            for sub in sorted(os.listdir(d)):
                sd = os.path.join(d, sub)
                if not os.path.isdir(sd):
                    continue
                e = st.load(os.path.join(sd, "expected.safetensors"))
                m = AutoModelForCausalLM.from_pretrained(sd, attn_implementation="eager",
                                                         dtype=torch.float64).eval()
                with torch.no_grad():
                    lg = m(input_ids=e["input_ids"].long(),
                           attention_mask=e["attention_mask"].long(),
                           position_ids=e["position_ids"].long()).logits
                err = (lg - e["logits"])[e["attention_mask"].bool()].abs().max().item()
                print(f"{'formats/' + sub:36s} logits max|d| {err:.2e}")
                ok &= err < 1e-5
            continue
        e = st.load(os.path.join(d, "expected.safetensors"))
        m = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager",
                                                 dtype=torch.float64).eval()
        ok &= compare(case, m, e, lambda ps: [(n, n) for n in ps])

    from peft import PeftModel

    root = os.path.join(RES, "parity-lora")
    for case in sorted(os.listdir(root)):
        d = os.path.join(root, case)
        e = st.load(os.path.join(d, "expected.safetensors"))
        base = AutoModelForCausalLM.from_pretrained(os.path.join(d, "base"),
                                                    attn_implementation="eager",
                                                    dtype=torch.float64)
        m = PeftModel.from_pretrained(base, os.path.join(d, "adapter"), is_trainable=True)
        m = m.double().eval()

        def lora_names(ps):
            return [(n, n.replace(".default.weight", ".weight")) for n in ps if "lora_" in n]

        ok &= compare("lora/" + case, m, e, lora_names)
        merged = m.merge_and_unload()
        sd = merged.state_dict()
        worst = 0.0
        for k, ref in e.items():
            if k.startswith("merged."):
                name = k[len("merged."):]
                got = sd.get(name, sd.get("transformer." + name))
                worst = max(worst, (got - ref).abs().max().item())
        print(f"{'lora/' + case + ' merge':36s} merged weights max|d| {worst:.2e}")
        ok &= worst < 1e-6
    print("ALL OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
