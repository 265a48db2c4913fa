#!/usr/bin/python3
"""Loads an adapter that flan-tune wrote into the float64 reference and compares outputs.

LoraParityTest.trainedAdapterIsWrittenForTheReference trains each parity-lora case's adapter
three AdamW steps, writes it with flan-tune's writer to target/lora-written/<case>/adapter/
and records flan-tune's per-token loss on the case's batch in ce.f32 (little-endian fp32,
[B*T]). This script reads that adapter with lora_ref.load_adapter (which checks names and
shapes against the base), runs the reference forward on the same batch, and prints the
largest per-token difference on real tokens.

Run after the test: /usr/bin/python3 scripts/reference/check_written_adapter.py
"""

import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt2_ref  # noqa: E402
import llama_ref  # noqa: E402
import lora_ref  # noqa: E402
import safetensors_io as st  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "src", "test", "resources", "parity-lora")
WRITTEN = os.path.join(REPO, "target", "lora-written")


def check(case):
    fixture = os.path.join(FIXTURES, case)
    with open(os.path.join(fixture, "case.json"), encoding="utf-8") as f:
        family = llama_ref if json.load(f)["family"] == "llama" else gpt2_ref
    cfg, params = family.load_checkpoint(os.path.join(fixture, "base"))
    lcfg, adapter = lora_ref.load_adapter(os.path.join(WRITTEN, case, "adapter"), cfg)
    e = st.load(os.path.join(fixture, "expected.safetensors"), float_dtype=torch.float64)
    batch = dict(input_ids=e["input_ids"].long(), position_ids=e["position_ids"].long())
    if "segment_ids" in e:
        batch["segment_ids"] = e["segment_ids"].long()
    else:
        batch["attention_mask"] = e["attention_mask"]
    logits = lora_ref.forward(params, cfg, adapter, lcfg, **batch)
    ce = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), e["labels"].long().reshape(-1), reduction="none")
    raw = open(os.path.join(WRITTEN, case, "ce.f32"), "rb").read()
    java = torch.tensor(struct.unpack("<%df" % (len(raw) // 4), raw), dtype=torch.float64)
    real = e["attention_mask"].reshape(-1) != 0
    diff = (ce - java).abs()[real].max().item()
    moved = max((b.abs().max().item() for _, b in adapter.values()))
    print(f"{case}: {len(adapter)} modules read by lora_ref.load_adapter; max |B| {moved:.4f}; "
          f"max per-token loss difference vs flan-tune {diff:.2e}")
    return diff


if __name__ == "__main__":
    worst = max(check(c) for c in sorted(os.listdir(WRITTEN)))
    sys.exit(0 if worst <= 1e-4 else 1)
