#!/usr/bin/env python3
"""Writes the rank-classification agreement fixture for `flan-tune eval`:
src/test/resources/eval/rank-expected.jsonl, one line per (task, template, example) of the
fixture collection src/test/resources/eval/tasks, scored on the `score` fixture checkpoint.

    /usr/bin/python3 scripts/reference/make_rank_fixture.py

Rendering is re-implemented here from ARCHITECTURE.md (FLAN's OPTIONS block, a "\\n" separator
after an input that does not end in whitespace, turned templates skipped), and each option is
scored by score_ref.py as Σ ln P(target + EOS | prompt): the completion is the target text followed
by the literal <|endoftext|>, which --hf-special-tokens maps to the EOS id, exactly as training
appends it. The prompts fit the model's 48 positions (score_ref.py refuses longer ones), so no
truncation is involved.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))
tasks_dir = os.path.join(root, "src/test/resources/eval/tasks")
model_dir = os.path.join(root, "src/test/resources/score/model")
out_file = os.path.join(root, "src/test/resources/eval/rank-expected.jsonl")


def render(text, fields):
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: fields[m.group(1)], text)


def main():
    cases = []  # (task, template, index, prompt, options, targets)
    for dirpath, _, files in sorted(os.walk(tasks_dir)):
        if "task.yaml" not in files:
            continue
        with open(os.path.join(dirpath, "task.yaml"), encoding="utf-8") as f:
            task = yaml.safe_load(f)
        with open(os.path.join(dirpath, task["data"]["validation"]), encoding="utf-8") as f:
            examples = [json.loads(line) for line in f if line.strip()]
        for t, tpl in enumerate(task["templates"]):
            if tpl.get("turned"):
                continue
            for i, ex in enumerate(examples):
                options = task.get("options") or ex["options"]
                fields = {k: str(v) for k, v in ex.items() if k != "options"}
                fields["options_"] = "OPTIONS:\n" + "\n".join("- " + o for o in options)
                prompt = render(tpl["input"], fields)
                if prompt and not prompt[-1].isspace():
                    prompt += "\n"
                targets = [render(tpl["target"], dict(fields, answer=o)) for o in options]
                cases.append((task["name"], t, i, prompt, options, targets, ex["answer"]))

    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
        with open(inp, "w", encoding="utf-8") as f:
            for c in cases:
                for target in c[5]:
                    f.write(json.dumps({"prompt": c[3], "completion": target + "<|endoftext|>"}) + "\n")
        subprocess.run([sys.executable, os.path.join(here, "score_ref.py"), "--model", model_dir, "--input", inp,
                        "--output", outp, "--hf-special-tokens"], check=True)
        with open(outp, encoding="utf-8") as f:
            scored = [json.loads(line) for line in f]

    k = 0
    with open(out_file, "w", encoding="utf-8") as f:
        for task, t, i, prompt, options, targets, answer in cases:
            rows = scored[k:k + len(options)]
            k += len(options)
            logprob = [r["logprob"] for r in rows]
            best = max(range(len(options)), key=lambda j: (logprob[j], -j))  # first maximum
            f.write(json.dumps({"task": task, "template": t, "index": i, "prompt": prompt, "options": options,
                                "targets": targets, "options_logprob": logprob,
                                "options_tokens": [r["tokens"] for r in rows], "prediction": options[best],
                                "answer": answer}, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {out_file}")


if __name__ == "__main__":
    main()
