"""Shared helpers: deterministic splitting and the task.yaml / JSONL writers."""
import hashlib
import json
import os
import random
import re

MAX_TRAIN = 1000
MAX_VAL = 200


def seed_of(name):
    """A stable integer seed from a task name (never Python's randomized hash())."""
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:12], 16)


def rng(name, salt=""):
    return random.Random(seed_of(name + "#" + salt))


def q(s):
    """A YAML double-quoted scalar: JSON string syntax is valid YAML."""
    return json.dumps(s, ensure_ascii=False)


def sentence(s):
    s = s.strip()
    if s and s[-1] not in ".!?":
        s += "."
    return s[:1].upper() + s[1:]


def cap(s):
    return s[:1].upper() + s[1:]


def article(word):
    return "an" if re.match(r"[aeiouAEIOU]", word) and not re.match(r"(?i)(uni|use|usu|uk|eu|one)", word) else "a"


def a(word):
    return article(word) + " " + word


def has_brace(ex):
    for v in ex.values():
        vals = v if isinstance(v, list) else [v]
        for x in vals:
            if "{" in x or "}" in x:
                return True
    return False


class Template:
    def __init__(self, inp, target, turned=False):
        self.input = inp
        self.target = target
        self.turned = turned


def T(inp, target="{answer}", turned=False):
    return Template(inp, target, turned)


def fields_of(text):
    return re.findall(r"\{([a-z_][a-z0-9_]*)\}", text)


class Task:
    def __init__(self, name, cluster, kind, metric, source, license, templates,
                 options=None, description=""):
        assert re.fullmatch(r"[a-z0-9_]+", name), name
        assert kind in ("classification", "generation")
        assert metric in ("accuracy", "exact_match", "f1", "bleu", "rouge_l")
        assert kind != "classification" or metric == "accuracy"
        self.name, self.cluster, self.kind, self.metric = name, cluster, kind, metric
        self.source, self.license, self.templates = source, license, templates
        self.options = options
        self.description = description
        self.counts = (0, 0)


def split(task, examples, key_fields=None, group=None, val_frac=0.15,
          max_train=MAX_TRAIN, max_val=MAX_VAL):
    """Dedupe by the input fields, then split deterministically.

    key_fields: fields forming the identity of an example (default: every field
    except answer/options). group: a function mapping an example to a group id;
    a whole group lands in one split. Returns (train, validation)."""
    seen = {}
    order = []
    for ex in examples:
        if has_brace(ex):
            continue
        if any(isinstance(v, str) and not v.strip() for v in ex.values()):
            continue
        if any(not o.strip() for o in ex.get("options", [])):
            continue
        kf = key_fields or [k for k in ex if k not in ("answer", "options")]
        key = json.dumps([ex[k] for k in kf], ensure_ascii=False)
        if key in seen:
            continue
        seen[key] = ex
        order.append(key)
    order.sort()
    r = rng(task.name, "split")
    if group is None:
        groups = {k: [k] for k in order}
    else:
        groups = {}
        for k in order:
            groups.setdefault(json.dumps(group(seen[k]), ensure_ascii=False), []).append(k)
    gkeys = sorted(groups)
    r.shuffle(gkeys)
    n_total = len(order)
    n_val_target = min(max_val, max(1, round(n_total * val_frac)))
    val, train = [], []
    for g in gkeys:
        if len(val) < n_val_target:
            val.extend(groups[g])
        else:
            train.extend(groups[g])
    r.shuffle(train)
    r.shuffle(val)
    train = train[:max_train]
    val = val[:max_val]
    return [seen[k] for k in train], [seen[k] for k in val]


def write_task(root, task, train, val):
    d = os.path.join(root, task.name)
    os.makedirs(d, exist_ok=True)
    for fname, rows in (("train.jsonl", train), ("validation.jsonl", val)):
        with open(os.path.join(d, fname), "w", encoding="utf-8", newline="\n") as f:
            for ex in rows:
                f.write(json.dumps(ex, ensure_ascii=False) + "\n")
    lines = []
    if task.description:
        for l in task.description.strip().split("\n"):
            lines.append("# " + l if l else "#")
    lines.append("name: " + task.name)
    lines.append("cluster: " + task.cluster)
    lines.append("kind: " + task.kind)
    lines.append("metric: " + task.metric)
    if task.options:
        lines.append("options: [" + ", ".join(q(o) for o in task.options) + "]")
    lines.append("data: {train: train.jsonl, validation: validation.jsonl}")
    lines.append("source: " + q(task.source))
    lines.append("license: " + q(task.license))
    lines.append("templates:")
    for t in task.templates:
        item = "  - {input: " + q(t.input) + ", target: " + q(t.target)
        if t.turned:
            item += ", turned: true"
        lines.append(item + "}")
    with open(os.path.join(d, "task.yaml"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    task.counts = (len(train), len(val))


def emit(root, task, examples, **kw):
    train, val = split(task, examples, **kw)
    check(task, train + val)
    write_task(root, task, train, val)
    return task


def check(task, examples):
    """Fail the build early on anything the Java loader would refuse."""
    assert examples, task.name
    n_turned = sum(1 for t in task.templates if t.turned)
    assert len(task.templates) >= 10 and n_turned <= 3, (task.name, len(task.templates), n_turned)
    for i, t in enumerate(task.templates):
        for text in (t.input, t.target):
            stripped = re.sub(r"\{[a-z_][a-z0-9_]*\}", "", text)
            assert "{" not in stripped and "}" not in stripped, (task.name, i, text)
        if "{options_}" in t.input:
            assert t.input.endswith("{options_}"), (task.name, i)
    for ex in examples:
        assert "answer" in ex, (task.name, ex)
        for t in task.templates:
            for fld in fields_of(t.input) + fields_of(t.target):
                assert fld == "options_" or fld in ex, (task.name, fld, ex)
        for k, v in ex.items():
            if k == "options":
                assert isinstance(v, list) and all(isinstance(x, str) for x in v), (task.name, ex)
            else:
                assert isinstance(v, str), (task.name, k, ex)
        if task.kind == "classification":
            opts = task.options or ex.get("options")
            assert opts and ex["answer"] in opts, (task.name, ex)
            assert len(set(opts)) == len(opts) and all(o.strip() for o in opts), (task.name, ex)
