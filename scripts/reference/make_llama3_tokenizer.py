"""Writes a small Llama 3-style byte-level BPE tokenizer and golden ids from gpt2_bpe.py:

  src/test/resources/tokenizer/llama3-bytelevel/{tokenizer.json, tokenizer_config.json,
      generation_config.json, golden.jsonl}

Layout as Llama 3's: pre-tokenizer Sequence[Split(Llama 3's regex, Isolated),
ByteLevel(use_regex false)], BPE with ignore_merges, post-processor Sequence[ByteLevel,
TemplateProcessing("<|begin_of_text|> $A")], ByteLevel decoder, and the special tokens
<|begin_of_text|>, <|end_of_text|>, <|start_header_id|>, <|end_header_id|>, <|eot_id|>.
tokenizer_config.json has no add_bos_token (the post-processor decides, as in Llama 3),
eos_token <|eot_id|>; generation_config.json lists both <|end_of_text|> and <|eot_id|>.
Its chat template is written here (the common header/eot turn layout), not copied.

The vocabulary is GPT-2's 256 byte tokens plus its first MERGES merges (ids 0..255+MERGES
as in GPT-2), from data/tokenizers/gpt2/tokenizer.json (OpenAI GPT-2 BPE, MIT; see
data/tokenizers/gpt2/README.md). Deterministic.

Run from the repository root: /usr/bin/python3 scripts/reference/make_llama3_tokenizer.py
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from gpt2_bpe import LLAMA3_PATTERN, GPT2BPE, bytes_to_unicode  # noqa: E402
from make_sp_tokenizer import CASES  # noqa: E402

GPT2 = "data/tokenizers/gpt2/tokenizer.json"
OUT = "src/test/resources/tokenizer/llama3-bytelevel"
MERGES = 1000
SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
            "<|end_header_id|>", "<|eot_id|>"]
LLAMA3_REGEX = LLAMA3_PATTERN.pattern

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")

EXTRA_CASES = [
    "<|begin_of_text|>Hello",
    "<|eot_id|>",
    "user<|end_header_id|>\n\nHi<|eot_id|>",
    "HE'S HERE AND I'M NOT, they'LL see",
    "1234567 digits in threes",
    "a\r\nb windows newline",
    "hi!!!\n\nnext",
    "  \n  indented",
    "x  \ty",
]


def main():
    with open(GPT2, encoding="utf-8") as f:
        gpt2 = json.load(f)["model"]
    byte_chars = list(bytes_to_unicode().values())
    vocab = {}
    for ch in byte_chars:
        vocab[ch] = gpt2["vocab"][ch]
    assert sorted(vocab.values()) == list(range(256))
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
              for m in gpt2["merges"][:MERGES]]
    for i, (a, b) in enumerate(merges):
        assert gpt2["vocab"][a + b] == 256 + i, (a, b)  # GPT-2 numbers merges in order
        vocab[a + b] = 256 + i
    special_ids = {t: len(vocab) + k for k, t in enumerate(SPECIALS)}
    bos, eot, eos = (special_ids[t] for t in ("<|begin_of_text|>", "<|eot_id|>",
                                               "<|end_of_text|>"))
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": False}
    tj = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}
                         for t, i in special_ids.items()],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated",
             "invert": False},
            byte_level]},
        "post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
             "use_regex": True},
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                        {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                      {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}},
                      {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<|begin_of_text|>": {
                 "id": "<|begin_of_text|>", "ids": [bos], "tokens": ["<|begin_of_text|>"]}}}]},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                  "vocab": vocab, "merges": [[a, b] for a, b in merges]},
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
        f.write("\n")
    configs = {
        "tokenizer_config.json": {
            "bos_token": "<|begin_of_text|>",
            "eos_token": "<|eot_id|>",
            "clean_up_tokenization_spaces": True,
            "model_max_length": 131072,
            "tokenizer_class": "PreTrainedTokenizerFast",
            "chat_template": CHAT_TEMPLATE,
        },
        "generation_config.json": {"bos_token_id": bos, "eos_token_id": [eos, eot]},
    }
    for name, obj in configs.items():
        with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")

    ref = GPT2BPE(vocab, merges, special_ids, pattern=LLAMA3_PATTERN, ignore_merges=True)
    inverse = {i: t for t, i in special_ids.items()}
    with open(os.path.join(OUT, "golden.jsonl"), "w", encoding="utf-8") as f:
        for text in CASES + EXTRA_CASES:
            ids = ref.encode(text, special_tokens=True)
            decoded, run = [], []
            for i in ids + [-1]:
                if i in inverse or i == -1:
                    if run:
                        decoded.append(ref.decode(run))
                        run = []
                    if i != -1:
                        decoded.append(inverse[i])
                else:
                    run.append(i)
            f.write(json.dumps({"text": text, "ids": ids, "decoded": "".join(decoded)},
                               ensure_ascii=False) + "\n")
    print(f"{OUT}: {len(vocab) + len(SPECIALS)} tokens, {len(merges)} merges, "
          f"{len(CASES) + len(EXTRA_CASES)} cases")


if __name__ == "__main__":
    main()
