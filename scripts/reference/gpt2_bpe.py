"""GPT-2 byte-level BPE, following OpenAI's gpt-2/src/encoder.py.

Reads either tokenizer.json (HF format: model.vocab / model.merges) or
vocab.json + merges.txt (= OpenAI's encoder.json + vocab.bpe).

By default text is plain text: "<|endoftext|>" inside a string is split like any
other characters, as OpenAI's encoder.py and gpt-3-encoder do. HF tokenizers (and so
DJL) instead match added tokens first, even with add_special_tokens=false, and map
the literal to 50256; encode(..., special_tokens=True) reproduces that.

\s in PATTERN has the Unicode White_Space meaning of Python's `regex` (and of
Oniguruma, which HF tokenizers uses): it includes U+0085 and excludes U+FEFF.
JavaScript's \s is the other way round, so gpt-3-encoder differs on rare strings
such as "a \u0085b"; HF tokenizers/DJL agree with this file there.
"""

import json
import os

import regex

# OpenAI's pre-tokenizer. Note the contractions are case-sensitive ("I'M" is not one)
# and \s+(?!\S) leaves the last space of a run to prefix the following word.
PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

# Llama 3's pre-tokenizer split (its tokenizer.json Split pattern): case-insensitive
# contractions, a letter run with one leading non-letter/non-digit, digits in groups of at
# most three, punctuation runs that keep their trailing newlines, newline runs.
LLAMA3_PATTERN = regex.compile(
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """Maps every byte to a printable character, so that BPE never sees whitespace or
    control characters: printable Latin-1 bytes map to themselves, the other 68 to
    U+0100.. in byte order (so the space byte 0x20 becomes 'Ġ' U+0120)."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class GPT2BPE:
    def __init__(self, encoder, merges, special_tokens=None, pattern=PATTERN,
                 ignore_merges=False):
        """pattern: the pre-tokenizer split; ignore_merges: a pre-token that is itself in
        the vocabulary is one token without running BPE (Llama 3's BPE setting)."""
        self.pattern = pattern
        self.ignore_merges = ignore_merges
        self.encoder = encoder
        # {literal: id} matched before pre-tokenization when special_tokens=True
        self.special_tokens = dict(special_tokens or {})
        if not self.special_tokens and "<|endoftext|>" in encoder:
            self.special_tokens["<|endoftext|>"] = encoder["<|endoftext|>"]
        self.decoder = {v: k for k, v in encoder.items()}
        self.bpe_ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        self.cache = {}

    @classmethod
    def from_dir(cls, model_dir):
        tj = os.path.join(model_dir, "tokenizer.json")
        if os.path.exists(tj):
            return cls.from_tokenizer_json(tj)
        with open(os.path.join(model_dir, "vocab.json"), encoding="utf-8") as f:
            encoder = json.load(f)
        with open(os.path.join(model_dir, "merges.txt"), encoding="utf-8") as f:
            return cls(encoder, _parse_merges_txt(f.read()))

    @classmethod
    def from_tokenizer_json(cls, path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        model = tj["model"]
        if model.get("type") != "BPE":
            raise ValueError(f"{path}: model.type {model.get('type')!r} is not BPE")
        # Older files store merges as "a b" strings, newer ones as ["a", "b"] pairs.
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        special = {t["content"]: t["id"] for t in tj.get("added_tokens") or []}
        return cls(model["vocab"], merges, special)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if best not in self.bpe_ranks:
                break
            first, second = best
            new_word = []
            i = 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
        self.cache[token] = word
        return word

    def encode(self, text, special_tokens=False):
        if special_tokens and self.special_tokens:
            # Split on the longest literal first, as HF's added-token matcher does.
            alts = "|".join(regex.escape(t) for t in
                            sorted(self.special_tokens, key=len, reverse=True))
            ids = []
            for part in regex.split(f"({alts})", text):
                if part in self.special_tokens:
                    ids.append(self.special_tokens[part])
                elif part:
                    ids.extend(self.encode(part))
            return ids
        ids = []
        for piece in self.pattern.findall(text):
            mapped = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            if self.ignore_merges and mapped in self.encoder:
                ids.append(self.encoder[mapped])
                continue
            ids.extend(self.encoder[t] for t in self.bpe(mapped))
        return ids

    def decode(self, ids):
        text = "".join(self.decoder[i] for i in ids)
        return bytes(self.byte_decoder[c] for c in text).decode("utf-8", errors="replace")


def _parse_merges_txt(data):
    merges = []
    for line in data.split("\n"):
        if not line.strip() or line.startswith("#version"):
            continue
        merges.append(tuple(line.split()))
    return merges
