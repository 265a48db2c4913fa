#!/usr/bin/python3
"""Reference for `flan-tune score`: log-probability of a completion given a prompt.

  /usr/bin/python3 scripts/reference/score_ref.py --model DIR --input IN.jsonl --output OUT.jsonl

Each input line {"prompt", "completion", ...} is written back with every field kept
plus "logprob" (sum of ln P(completion token | everything before it)), "tokens" (the
completion's token count) and "greedy" (true iff every completion token is the
argmax of its distribution). Prompt and completion are tokenized separately, with
no special tokens, and concatenated, as in training. Computed in float64.

The checkpoint may be F32/F16/BF16, sharded, with or without the "transformer."
prefix, tied or untied. The tokenizer is the model directory's tokenizer.json, or
vocab.json + merges.txt.
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt2_ref as ref  # noqa: E402
from gpt2_bpe import GPT2BPE  # noqa: E402


def score(params, cfg, prompt_ids, completion_ids):
    """(logprob, tokens, greedy) of completion_ids after prompt_ids."""
    if not completion_ids:
        return 0.0, 0, True
    if not prompt_ids:
        # The first token needs some context to be predicted from; GPT-2's convention
        # (and HF's for unconditional scoring) is to start from <|endoftext|>.
        prompt_ids = [cfg.bos_token_id]
    ids = prompt_ids + completion_ids
    if len(ids) > cfg.n_positions:
        raise ValueError(f"{len(ids)} tokens exceed n_positions {cfg.n_positions}")
    with torch.no_grad():
        logits = ref.forward(params, cfg, torch.tensor([ids]))[0]
    # Position t predicts token t+1, so completion token j is scored at j-1.
    start = len(prompt_ids)
    pred = logits[start - 1:len(ids) - 1]
    target = torch.tensor(completion_ids)
    logp = torch.log_softmax(pred, dim=-1).gather(-1, target[:, None])[:, 0]
    # Ties count as greedy only if the completion token is (one of) the maxima.
    greedy = bool((pred.gather(-1, target[:, None])[:, 0] >= pred.max(dim=-1).values).all())
    return float(logp.sum()), len(completion_ids), greedy


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="HF-layout checkpoint directory")
    ap.add_argument("--input", required=True, help="JSONL with prompt and completion")
    ap.add_argument("--output", required=True)
    ap.add_argument("--tokenizer", help="tokenizer directory if not the model's")
    ap.add_argument("--hf-special-tokens", action="store_true",
                    help="map the literal <|endoftext|> in text to its id, as HF "
                         "tokenizers/DJL do (default: plain text, as OpenAI's encoder)")
    args = ap.parse_args()

    cfg, params = ref.load_checkpoint(args.model, dtype=torch.float64)
    bpe = GPT2BPE.from_dir(args.tokenizer or args.model)
    with open(args.input, encoding="utf-8") as fin, \
            open(args.output, "w", encoding="utf-8") as fout:
        for lineno, line in enumerate(fin, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            try:
                p = bpe.encode(rec["prompt"], special_tokens=args.hf_special_tokens)
                c = bpe.encode(rec["completion"], special_tokens=args.hf_special_tokens)
            except KeyError as e:
                sys.exit(f"{args.input}:{lineno}: missing field {e}")
            rec["logprob"], rec["tokens"], rec["greedy"] = score(params, cfg, p, c)
            fout.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
