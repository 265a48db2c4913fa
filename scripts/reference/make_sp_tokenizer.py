"""Writes a small Llama 2 / TinyLlama-style tokenizer (SentencePiece BPE with byte
fallback) and golden ids from sp_bpe_ref.py:

  src/test/resources/tokenizer/sp-bytefallback/  normalizer Prepend("▁") + Replace(" ", "▁")
  src/test/resources/tokenizer/sp-metaspace/     the same vocabulary behind a Metaspace
                                                 pre-tokenizer (prepend_scheme "first")

each with tokenizer.json, tokenizer_config.json, generation_config.json and golden.jsonl
({"text", "ids", "decoded"}).

The vocabulary: <unk>, <s>, </s> (ids 0-2), the 256 byte tokens <0x00>..<0xFF> (3-258),
the characters seen at least MIN_CHAR_COUNT times in the training text, then MERGES
merges learned by plain BPE training (most frequent adjacent pair first, ties broken by
the pair's text) on words that start at "▁", as SentencePiece's BPE splits them.
Training text: data/pretrain/validation.txt (State of the Union addresses, public domain /
CC0, and Jane Austen chapters, public domain; see data/pretrain/README.md). Deterministic:
the same bytes on every run.

Run from the repository root: /usr/bin/python3 scripts/reference/make_sp_tokenizer.py
"""

import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sp_bpe_ref import SPACE, SentencePieceBpe  # noqa: E402

CORPUS = "data/pretrain/validation.txt"
OUT = "src/test/resources/tokenizer"
MIN_CHAR_COUNT = 20
MERGES = 400

# Strings chosen to hit each rule: spaces at either end and in runs, newlines and tabs,
# characters outside the vocabulary (byte fallback, 2-4 byte UTF-8, emoji sequences),
# digits, the "▁" character itself, and added-token literals inside text.
CASES = [
    "Hello world",
    "The House of Representatives and the Senate",
    "",
    " ",
    "   ",
    " leading space",
    "   three leading spaces",
    "trailing space ",
    "trailing spaces   ",
    "multiple   spaces  inside",
    "\n",
    "line one\nline two",
    "\n\nafter two newlines",
    "paragraph\n\n\nthree newlines",
    "tab\tseparated\tvalues",
    " \t \n mixed whitespace",
    "12345",
    "3.14159 and 2,718",
    "In 1790, the year 2026-12-02.",
    "café",
    "naïve résumé",
    "Ünïcödé ÀÉÎÕÜ",
    "日本語のテキスト",
    "Привет, мир",
    "emoji 😀",
    "👍🏽 thumbs",
    "flag 🇺🇸 here",
    "a😀b😀c",
    "e\u0301 combining accent",
    "\u00a0no-break space",
    "zero\u200bwidth",
    "\u2581 the metaspace character itself",
    "a\u2581b",
    "<s>",
    "</s>",
    "<unk>",
    "x<s>y",
    "<s> Hello",
    "Hello </s>",
    "<<s>>",
    "don't stop, I'M fine",
    "Mr. Darcy's letter to Elizabeth Bennet",
    "C++ & C# cost £100 (or €90)!",
    "aaaaaaaaaaaaaaaa",
    "It is a truth universally acknowledged, that a single man in possession of a good "
    "fortune, must be in want of a wife.",
]


def train_vocab(text):
    words = collections.Counter()
    for line in text.split("\n"):
        if not line:
            continue
        norm = SPACE + line.replace(" ", SPACE)
        for w in norm.split(SPACE):
            if w:
                words[SPACE + w] += 1
    chars = collections.Counter()
    for w, c in words.items():
        for ch in w:
            chars[ch] += c
    alphabet = sorted(ch for ch, c in chars.items() if c >= MIN_CHAR_COUNT)
    known = set(alphabet)
    # Each word as a list of symbols; characters outside the alphabet block merges.
    seqs = {w: [ch if ch in known else None for ch in w] for w in words}
    merges = []
    for _ in range(MERGES):
        pairs = collections.Counter()
        for w, seq in seqs.items():
            for a, b in zip(seq, seq[1:]):
                if a is not None and b is not None:
                    pairs[(a, b)] += words[w]
        if not pairs:
            break
        (a, b), _ = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        merges.append((a, b))
        for w, seq in seqs.items():
            out, i = [], 0
            while i < len(seq):
                if i + 1 < len(seq) and seq[i] == a and seq[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(seq[i])
                    i += 1
            seqs[w] = out
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for ch in alphabet:
        vocab.setdefault(ch, len(vocab))
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return vocab, merges


def added(i, content):
    return {"id": i, "content": content, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": False, "special": True}


def tokenizer_json(vocab, merges, metaspace):
    bos_template = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                   {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                 {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<s>", "type_id": 1}},
                 {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
    }
    if metaspace:
        normalizer = None
        pre = {"type": "Metaspace", "replacement": SPACE, "prepend_scheme": "first",
               "split": False}
    else:
        normalizer = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SPACE},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPACE}]}
        pre = None
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
        "normalizer": normalizer,
        "pre_tokenizer": pre,
        "post_processor": bos_template,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SPACE}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": "<unk>",
            "continuing_subword_prefix": None, "end_of_word_suffix": None,
            "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
            "vocab": vocab, "merges": [[a, b] for a, b in merges]},
    }


def write(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1 if path.endswith("config.json") else None)
        f.write("\n")


def main():
    with open(CORPUS, encoding="utf-8") as f:
        vocab, merges = train_vocab(f.read())
    for name, metaspace in (("sp-bytefallback", False), ("sp-metaspace", True)):
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        tj = tokenizer_json(vocab, merges, metaspace)
        write(os.path.join(d, "tokenizer.json"), tj)
        # TinyLlama's tokenizer_config.json keys that matter (its tokens as AddedToken objects).
        write(os.path.join(d, "tokenizer_config.json"), {
            "add_bos_token": True,
            "add_eos_token": False,
            "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": False,
                          "normalized": False, "rstrip": False, "single_word": False},
            "eos_token": {"__type": "AddedToken", "content": "</s>", "lstrip": False,
                          "normalized": False, "rstrip": False, "single_word": False},
            "unk_token": {"__type": "AddedToken", "content": "<unk>", "lstrip": False,
                          "normalized": False, "rstrip": False, "single_word": False},
            "pad_token": None,
            "legacy": False,
            "model_max_length": 2048,
            "tokenizer_class": "LlamaTokenizer",
        })
        write(os.path.join(d, "generation_config.json"),
              {"bos_token_id": 1, "eos_token_id": 2, "max_length": 2048})
        ref = SentencePieceBpe(tj)
        with open(os.path.join(d, "golden.jsonl"), "w", encoding="utf-8") as f:
            for text in CASES:
                ids = ref.encode(text)
                f.write(json.dumps({"text": text, "ids": ids, "decoded": ref.decode(ids)},
                                   ensure_ascii=False) + "\n")
        print(f"{d}: {len(vocab)} tokens, {len(merges)} merges, {len(CASES)} cases")


if __name__ == "__main__":
    main()
