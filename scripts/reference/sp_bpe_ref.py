"""SentencePiece-style BPE with byte fallback (Llama 2 / TinyLlama), as a Hugging Face
tokenizer.json of that kind defines it, in plain Python.

Reads the tokenizer.json fields that matter and nothing else:
- added_tokens: matched first, on the raw text (longest first); they map to their ids
  and are never normalized or merged. Whatever lies between them is encoded on its own.
- the "▁" handling, either
  * normalizer Sequence[Prepend("▁"), Replace(" ", "▁")] (the legacy Llama 2 file):
    every piece between added tokens gets "▁" in front, or
  * pre_tokenizer Metaspace(replacement "▁", prepend_scheme "first"|"always"|"never",
    split false): "first" prepends only to a piece that starts the text, and Metaspace
    never prepends to a piece that already starts with "▁" (after spaces are replaced),
    so " a" is "▁a" here but "▁▁a" under the Prepend normalizer.
  Either way every " " becomes "▁", and the whole piece is one BPE word.
- model BPE: the word is split into characters; a character missing from the vocab
  becomes its UTF-8 bytes as "<0xNN>" tokens (byte_fallback), or "<unk>" (consecutive
  unknowns fused into one when fuse_unk); then the pair of adjacent symbols with the
  lowest merge rank is merged, leftmost first, until no pair has a rank.
- decoder: "▁" -> " ", runs of <0xNN> tokens -> their bytes as UTF-8 (U+FFFD for each
  invalid byte, as the ByteFallback decoder does), and one leading space stripped.

Written from those definitions; shares no code with Hugging Face tokenizers or DJL.
"""

import json

SPACE = "\u2581"  # "▁"


class SentencePieceBpe:
    def __init__(self, tokenizer_json):
        tj = tokenizer_json
        model = tj["model"]
        assert model["type"] == "BPE", model["type"]
        self.vocab = model["vocab"]
        self.inverse = {i: t for t, i in self.vocab.items()}
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        self.ranks = {m: r for r, m in enumerate(merges)}
        self.byte_fallback = bool(model.get("byte_fallback"))
        self.fuse_unk = bool(model.get("fuse_unk"))
        self.unk = model.get("unk_token")
        self.added = {t["content"]: t["id"] for t in tj.get("added_tokens") or []}
        for t, i in self.added.items():
            self.inverse[i] = t
        self.prepend = self._prepend_scheme(tj)

    @staticmethod
    def _prepend_scheme(tj):
        norm = tj.get("normalizer") or {}
        steps = norm.get("normalizers", [norm]) if norm.get("type") == "Sequence" else [norm]
        if any(s.get("type") == "Prepend" and s.get("prepend") == SPACE for s in steps):
            return "normalizer"
        pre = tj.get("pre_tokenizer") or {}
        if pre.get("type") == "Metaspace":
            assert not pre.get("split", True), "only split=false Metaspace is modelled"
            return pre.get("prepend_scheme", "always")
        raise ValueError("neither a Prepend normalizer nor a Metaspace pre-tokenizer")

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def encode(self, text):
        ids = []
        for start, piece, is_added in self._split_added(text):
            if is_added:
                ids.append(self.added[piece])
            elif piece:
                ids.extend(self._encode_piece(piece, first=start == 0))
        return ids

    def _split_added(self, text):
        """(offset, text, is_added) pieces: added tokens matched greedily, longest first."""
        literals = sorted(self.added, key=len, reverse=True)
        out, i, last = [], 0, 0
        while i < len(text):
            hit = next((t for t in literals if text.startswith(t, i)), None)
            if hit is None:
                i += 1
                continue
            out.append((last, text[last:i], False))
            out.append((i, hit, True))
            i += len(hit)
            last = i
        out.append((last, text[last:], False))
        return out

    def _encode_piece(self, piece, first):
        word = piece.replace(" ", SPACE)
        if self.prepend == "normalizer":
            word = SPACE + word
        elif self.prepend == "always" or (self.prepend == "first" and first):
            if not word.startswith(SPACE):
                word = SPACE + word
        symbols = []  # token strings
        for ch in word:
            if ch in self.vocab:
                symbols.append(ch)
                continue
            if self.byte_fallback:
                pieces = ["<0x%02X>" % b for b in ch.encode("utf-8")]
                if all(p in self.vocab for p in pieces):
                    symbols.extend(pieces)
                    continue
            if self.fuse_unk and symbols and symbols[-1] == self.unk:
                continue  # consecutive unknowns become one <unk>
            symbols.append(self.unk)
        symbols = self._merge(symbols)
        return [self.vocab[s] for s in symbols]

    def _merge(self, symbols):
        while len(symbols) > 1:
            best, at = None, -1
            for k in range(len(symbols) - 1):
                r = self.ranks.get((symbols[k], symbols[k + 1]))
                if r is not None and (best is None or r < best):
                    best, at = r, k
            if best is None:
                break
            symbols = symbols[:at] + [symbols[at] + symbols[at + 1]] + symbols[at + 2:]
        return symbols

    def decode(self, ids):
        out, pending = [], bytearray()
        for i in ids:
            t = self.inverse[i]
            if len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
                pending.append(int(t[3:5], 16))
                continue
            if pending:
                out.append(_utf8_lossy(bytes(pending)))
                pending.clear()
            out.append(t.replace(SPACE, " "))
        if pending:
            out.append(_utf8_lossy(bytes(pending)))
        text = "".join(out)
        return text[1:] if text.startswith(" ") else text


def _utf8_lossy(b):
    """UTF-8 with one U+FFFD per byte of an invalid sequence (the ByteFallback rule)."""
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return "\ufffd" * len(b)
