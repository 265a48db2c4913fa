#!/usr/bin/env python3
"""Writes a tiny GPT-2-style byte-level BPE tokenizer.json for fast tests.

Vocabulary: GPT-2's 256 byte symbols, the results of GPT-2's first K merges (in order, so every
merge's parts exist), then <|endoftext|>. Same pre-tokenizer and decoder as GPT-2.

    /usr/bin/python3 scripts/reference/make_tiny_tokenizer.py data/tokenizers/gpt2/tokenizer.json \
        src/test/resources/tokenizer/tiny/tokenizer.json 250
"""
import json
import sys

src, dst, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
full = json.load(open(src, encoding="utf-8"))
gpt2_vocab = full["model"]["vocab"]
merges = full["model"]["merges"][:k]
merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
byte_symbols = sorted((tok for tok, i in gpt2_vocab.items() if i < 256), key=lambda t: gpt2_vocab[t])
vocab = {tok: i for i, tok in enumerate(byte_symbols)}
for m in merges:
    a, b = m.split(" ")
    assert a in vocab and b in vocab, m
    vocab.setdefault(a + b, len(vocab))
eos = len(vocab)
vocab["<|endoftext|>"] = eos
full["model"]["vocab"] = vocab
full["model"]["merges"] = merges
for t in full.get("added_tokens", []):
    if t["content"] == "<|endoftext|>":
        t["id"] = eos
json.dump(full, open(dst, "w", encoding="utf-8"), ensure_ascii=False)
print(f"wrote {dst}: {len(vocab)} tokens, eos {eos}")
