#!/usr/bin/env python3
"""Writes the `score` agreement fixture: a checkpoint in layouts the parity tests do not use
(BF16, `transformer.` prefix, 2 shards, untied head, 3 heads), the tiny test tokenizer, input
lines, and the reference scores from score_ref.py.

    /usr/bin/python3 scripts/reference/make_score_fixture.py
"""
import json
import os
import shutil
import subprocess
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import gpt2_ref as ref  # noqa: E402
from gpt2_bpe import GPT2BPE  # noqa: E402

root = os.path.abspath(os.path.join(here, "..", ".."))
out = os.path.join(root, "src/test/resources/score")
model_dir = os.path.join(out, "model")
tok_json = os.path.join(root, "src/test/resources/tokenizer/tiny/tokenizer.json")
shutil.rmtree(out, ignore_errors=True)
os.makedirs(model_dir)

cfg = ref.GPT2Config(vocab_size=507, n_positions=48, n_embd=30, n_layer=2, n_head=3,
                     layer_norm_epsilon=1e-5, tie_word_embeddings=False,
                     bos_token_id=506, eos_token_id=506)
params = ref.init_params(cfg, seed=7, std=0.2, perturb=0.1)
ref.save_checkpoint(params, cfg, model_dir, dtype="BF16", prefix="transformer.", shards=2)
shutil.copy(tok_json, os.path.join(model_dir, "tokenizer.json"))

# Read back what was stored (BF16-rounded) so greedy continuations are the stored model's.
_, stored = ref.load_checkpoint(model_dir)
bpe = GPT2BPE.from_tokenizer_json(tok_json)

lines = [
    {"prompt": "The cat sat on the", "completion": " mat.", "id": 1},
    {"prompt": "", "completion": "Hello there", "id": 2},
    {"prompt": "Question: what is 2 + 2?\nAnswer:", "completion": " 4", "meta": {"k": [1, 2]}},
    {"prompt": "Ünïcödé — “quotes” and emoji 🙂", "completion": " ok", "id": 4},
    {"prompt": "tabs\tand  spaces   ", "completion": "\n\nnext", "id": 5},
    {"prompt": "empty completion", "completion": "", "id": 6},
    {"prompt": "the " * 12, "completion": "end of the line", "id": 7},
]


def greedy_continuation(prompt_ids, n):
    ids = list(prompt_ids)
    with torch.no_grad():
        for _ in range(n):
            logits = ref.forward(stored, cfg, torch.tensor([ids]))[0, -1]
            ids.append(int(logits.argmax()))
    return ids[len(prompt_ids):]


# A line whose completion is the model's own greedy continuation (greedy must come out true);
# take the first prompt whose continuation survives decode → encode unchanged.
for prompt in ["Once upon a time", "In the park", "A dog", "The end", "Hello", "We sat"]:
    cont = greedy_continuation(bpe.encode(prompt), 3)
    if bpe.encode(bpe.decode(cont)) == cont:
        lines.append({"prompt": prompt, "completion": bpe.decode(cont), "id": 8, "expect_greedy": True})
        break
else:
    raise SystemExit("no prompt gave a round-tripping greedy continuation")

with open(os.path.join(out, "input.jsonl"), "w", encoding="utf-8") as f:
    for line in lines:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")
subprocess.run([sys.executable, os.path.join(here, "score_ref.py"), "--model", model_dir,
                "--input", os.path.join(out, "input.jsonl"),
                "--output", os.path.join(out, "expected.jsonl")], check=True)
print("wrote", out)
