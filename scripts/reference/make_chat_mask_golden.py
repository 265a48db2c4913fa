#!/usr/bin/env python3
"""Golden token ids and loss masks of chat-template training examples, for ChatFormatGoldenTest.

  /usr/bin/python3 scripts/reference/make_chat_mask_golden.py   (Debian python3-jinja2, python3-regex)

Writes
  src/test/resources/tokenizer/qwen2-chatml/{tokenizer.json, tokenizer_config.json,
      generation_config.json}: a small Qwen2-style byte-level BPE (Qwen2's split regex, NFC,
      <|endoftext|> <|im_start|> <|im_end|>, no BOS, eos_token <|im_end|>), with the Qwen2.5 chat
      template of src/test/resources/chat/templates/qwen2.5.jinja. Its vocabulary is GPT-2's 256
      byte tokens and first 1,000 merges (data/tokenizers/gpt2, OpenAI GPT-2 BPE, MIT), as the
      llama3-bytelevel fixture's.
  src/test/resources/chat/masks.json: for ChatML (Qwen2.5's template on qwen2-chatml), Llama 3
      (llama3.jinja on llama3-bytelevel) and Zephyr (zephyr.jinja on sp-bytefallback) and several
      conversations: the rendered text, input_ids and loss_mask.

The rule, written here from its definition and sharing no code path with the Java side (which
aligns tokenizations instead of character offsets):
  - text = template(messages, add_generation_prompt=False), rendered with jinja2 as transformers
    does; ids = the reference tokenizer's ids of text (added tokens matched first, no special tokens
    added), with the BOS id in front iff the model uses BOS and the text does not start with it.
  - assistant turn i spans the characters from len(template(messages[:i], add_generation_prompt=
    True)) to the end of the first end-of-turn token (<|im_end|>, <|eot_id|>, </s>) after it in
    template(messages[:i+1], False).
  - loss_mask[k] = 1 iff token k's character span intersects an assistant span. The tokenizers
    below give each token the characters it came from (byte-level: the bytes' characters;
    SentencePiece: the characters, the prepended "▁" covering none).
"""
import json
import os
import sys
import unicodedata

import regex

sys.path.insert(0, os.path.dirname(__file__))
from gpt2_bpe import LLAMA3_PATTERN, GPT2BPE, bytes_to_unicode  # noqa: E402
from render_chat_golden import environment  # noqa: E402
from sp_bpe_ref import SPACE, SentencePieceBpe  # noqa: E402

GPT2 = "data/tokenizers/gpt2/tokenizer.json"
TOK = "src/test/resources/tokenizer"
CHAT = "src/test/resources/chat"
QWEN_OUT = os.path.join(TOK, "qwen2-chatml")
MERGES = 1000
QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
QWEN2_PATTERN = regex.compile(
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")

FLAN_PROMPT = ("Premise: A man plays a guitar on stage.\nHypothesis: A person is making music.\n\n"
               "Does the premise entail the hypothesis?\n\nOPTIONS:\n- yes\n- no")
CONVERSATIONS = {
    "flan_single": [{"role": "user", "content": FLAN_PROMPT}, {"role": "assistant", "content": "yes"}],
    "leading_newline_reply": [
        {"role": "user", "content": "Write two lines."},
        {"role": "assistant", "content": "\nRoses are red,\n  violets are blue. "}],
    "multi_turn_system": [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris"},
        {"role": "user", "content": "And of Italy? Answer in one word, café-style ☕."},
        {"role": "assistant", "content": "Rome 🏛️ — of course"}],
    "empty_reply": [{"role": "user", "content": "Say nothing."}, {"role": "assistant", "content": ""}],
}


def write_qwen_fixture():
    with open(GPT2, encoding="utf-8") as f:
        gpt2 = json.load(f)["model"]
    vocab = {ch: gpt2["vocab"][ch] for ch in bytes_to_unicode().values()}
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
              for m in gpt2["merges"][:MERGES]]
    for i, (a, b) in enumerate(merges):
        assert gpt2["vocab"][a + b] == 256 + i, (a, b)
        vocab[a + b] = 256 + i
    special_ids = {t: len(vocab) + k for k, t in enumerate(QWEN_SPECIALS)}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                  "use_regex": False}
    tj = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}
                         for t, i in special_ids.items()],
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_PATTERN.pattern}, "behavior": "Isolated",
             "invert": False},
            byte_level]},
        "post_processor": byte_level,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                    "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": False,
                  "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [[a, b] for a, b in merges]},
    }
    os.makedirs(QWEN_OUT, exist_ok=True)
    with open(os.path.join(QWEN_OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(CHAT, "templates", "qwen2.5.jinja"), encoding="utf-8") as f:
        template = f.read()
    configs = {
        "tokenizer_config.json": {
            "add_prefix_space": False, "bos_token": None, "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>", "errors": "replace", "model_max_length": 131072,
            "tokenizer_class": "Qwen2Tokenizer", "chat_template": template},
        "generation_config.json": {
            "bos_token_id": special_ids["<|endoftext|>"],
            "eos_token_id": [special_ids["<|im_end|>"], special_ids["<|endoftext|>"]]},
    }
    for name, obj in configs.items():
        with open(os.path.join(QWEN_OUT, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")


class ByteLevelWithOffsets:
    """GPT2BPE's encoding, each token with the [start, end) characters its bytes came from."""

    def __init__(self, tokenizer_dir, pattern, ignore_merges, nfc):
        with open(os.path.join(tokenizer_dir, "tokenizer.json"), encoding="utf-8") as f:
            tj = json.load(f)
        merges = [tuple(m) for m in tj["model"]["merges"]]
        self.special = {t["content"]: t["id"] for t in tj["added_tokens"]}
        self.ref = GPT2BPE(tj["model"]["vocab"], merges, self.special, pattern=pattern,
                           ignore_merges=ignore_merges)
        self.nfc = nfc

    def encode(self, text):
        out = []  # (id, start, end)
        alts = "|".join(regex.escape(t) for t in sorted(self.special, key=len, reverse=True))
        pos = 0
        for part in regex.split(f"({alts})", text):
            if part in self.special:
                out.append((self.special[part], pos, pos + len(part)))
            elif part:
                if self.nfc:
                    assert unicodedata.normalize("NFC", part) == part, "keep fixtures NFC"
                for m in self.ref.pattern.finditer(part):
                    out.extend(self._piece(m.group(), pos + m.start()))
            pos += len(part)
        return out

    def _piece(self, piece, at):
        data = piece.encode("utf-8")
        char_of_byte = [k for k, ch in enumerate(piece) for _ in ch.encode("utf-8")]
        mapped = "".join(self.ref.byte_encoder[b] for b in data)
        if self.ref.ignore_merges and mapped in self.ref.encoder:
            tokens = [mapped]
        else:
            tokens = self.ref.bpe(mapped)
        out, b = [], 0
        for t in tokens:
            first, last = b, b + len(t) - 1  # one mapped character per byte
            out.append((self.ref.encoder[t], at + char_of_byte[first], at + char_of_byte[last] + 1))
            b += len(t)
        assert [i for i, _, _ in out] == self.ref.encode(piece)
        return out


class SentencePieceWithOffsets:
    """sp_bpe_ref's encoding (Prepend normalizer layout), each token with its characters."""

    def __init__(self, tokenizer_dir):
        self.ref = SentencePieceBpe.load(os.path.join(tokenizer_dir, "tokenizer.json"))
        assert self.ref.prepend == "normalizer"

    def encode(self, text):
        out = []
        for start, piece, is_added in self.ref._split_added(text):
            if is_added:
                out.append((self.ref.added[piece], start, start + len(piece)))
            elif piece:
                out.extend(self._piece(piece, start))
        assert [i for i, _, _ in out] == self.ref.encode(text)
        return out

    def _piece(self, piece, at):
        symbols = [(SPACE, at, at)]  # the prepended "▁" stands for no character of the text
        for k, ch in enumerate(piece):
            c = SPACE if ch == " " else ch
            if c in self.ref.vocab:
                symbols.append((c, at + k, at + k + 1))
            else:
                pieces = ["<0x%02X>" % b for b in c.encode("utf-8")]
                assert all(p in self.ref.vocab for p in pieces), "byte fallback only"
                symbols.extend((p, at + k, at + k + 1) for p in pieces)
        while len(symbols) > 1:
            best, where = None, -1
            for k in range(len(symbols) - 1):
                r = self.ref.ranks.get((symbols[k][0], symbols[k + 1][0]))
                if r is not None and (best is None or r < best):
                    best, where = r, k
            if best is None:
                break
            a, b = symbols[where], symbols[where + 1]
            symbols[where:where + 2] = [(a[0] + b[0], a[1], b[2])]
        return [(self.ref.vocab[s], lo, hi) for s, lo, hi in symbols]


def config(tokenizer_dir):
    with open(os.path.join(tokenizer_dir, "tokenizer_config.json"), encoding="utf-8") as f:
        tc = json.load(f)

    def text(v):
        return v["content"] if isinstance(v, dict) else (v or "")

    return text(tc.get("bos_token")), text(tc.get("eos_token"))


STYLES = [
    # name, tokenizer dir, template, tokenizer, uses BOS, end-of-turn text
    ("chatml", QWEN_OUT, "qwen2.5.jinja",
     lambda: ByteLevelWithOffsets(QWEN_OUT, QWEN2_PATTERN, False, True), False, "<|im_end|>"),
    ("llama3", os.path.join(TOK, "llama3-bytelevel"), "llama3.jinja",
     lambda: ByteLevelWithOffsets(os.path.join(TOK, "llama3-bytelevel"), LLAMA3_PATTERN, True,
                                  False), True, "<|eot_id|>"),
    ("zephyr", os.path.join(TOK, "sp-bytefallback"), "zephyr.jinja",
     lambda: SentencePieceWithOffsets(os.path.join(TOK, "sp-bytefallback")), True, "</s>"),
]


def case(env, style, conversation_name, messages):
    name, tok_dir, template_name, make_tok, uses_bos, eot = style
    bos, eos = config(tok_dir)
    with open(os.path.join(CHAT, "templates", template_name), encoding="utf-8") as f:
        template = env.from_string(f.read())

    def render(msgs, agp):
        return template.render(messages=msgs, add_generation_prompt=agp, bos_token=bos,
                               eos_token=eos)

    tok = make_tok()
    text = render(messages, False)
    spans = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        start = len(render(messages[:i], True))
        upto = render(messages[:i + 1], False)
        end = upto.index(eot, start) + len(eot)
        assert text.startswith(upto[:end])
        spans.append((start, end))
    tokens = tok.encode(text)
    ids = [i for i, _, _ in tokens]
    mask = [1 if any(lo < e and hi > s for s, e in spans) else 0 for _, lo, hi in tokens]
    if uses_bos and not text.startswith(bos):
        bos_id = tok.special[bos] if isinstance(tok, ByteLevelWithOffsets) else tok.ref.added[bos]
        ids, mask = [bos_id] + ids, [0] + mask
    return {"style": name, "tokenizer": os.path.relpath(tok_dir, TOK), "template": template_name,
            "conversation": conversation_name, "messages": messages, "text": text,
            "input_ids": ids, "loss_mask": mask}


def main():
    write_qwen_fixture()
    env = environment()
    cases = [case(env, style, n, msgs) for style in STYLES for n, msgs in CONVERSATIONS.items()]
    out = os.path.join(CHAT, "masks.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    for c in cases:
        print(c["style"], c["conversation"], len(c["input_ids"]), "tokens,", sum(c["loss_mask"]),
              "in the loss")
    print(f"{len(cases)} cases -> {out}")


if __name__ == "__main__":
    main()
