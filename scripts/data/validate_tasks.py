"""Checks a task collection (data/tasks) the way the Java loader will, and more.

usage: validate_tasks.py [TASKS_DIR]      (default: <repo>/data/tasks)

Independent of the generator: it parses task.yaml itself (a small parser for
the flow-style subset the collection uses; PyYAML, when installed, must agree),
loads every split, renders every template on every example, and checks:
  - name = directory name, known kind/metric, classification => accuracy;
  - source and license present; source starts with "synthetic:" for the
    procedurally generated clusters (nli, coreference, reading_comprehension,
    summarization);
  - >= 10 templates, <= 3 turned; template keys only input/target/turned;
    every {field} a template names exists in every example; {options_} last;
  - every example has string fields and an answer; classification answers are
    one of the options (task-level or per-example), options are distinct;
  - train and validation are non-empty and share no example and no input;
  - at least 8 clusters and 24 tasks.
Exits 1 on any error and prints one line per problem.
"""
import json
import os
import re
import sys

KINDS = {"classification", "generation"}
METRICS = {"accuracy", "exact_match", "f1", "bleu", "rouge_l"}
SYNTHETIC_CLUSTERS = {"nli", "coreference", "reading_comprehension", "summarization"}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


# ----------------------------------------------------------------- a small YAML subset parser
class FlowParser:
    def __init__(self, s):
        self.s, self.i = s, 0

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def value(self):
        self.ws()
        c = self.s[self.i]
        if c == '"':
            dec = json.JSONDecoder()
            v, end = dec.raw_decode(self.s, self.i)
            self.i = end
            return v
        if c == "[":
            self.i += 1
            out = []
            self.ws()
            if self.s[self.i] == "]":
                self.i += 1
                return out
            while True:
                out.append(self.value())
                self.ws()
                c = self.s[self.i]
                self.i += 1
                if c == "]":
                    return out
                if c != ",":
                    raise ValueError("expected , or ] at %d" % self.i)
        if c == "{":
            self.i += 1
            out = {}
            while True:
                self.ws()
                m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.s, self.i)
                if not m:
                    raise ValueError("expected key at %d" % self.i)
                key = m.group(0)
                self.i = m.end()
                self.ws()
                if self.s[self.i] != ":":
                    raise ValueError("expected : at %d" % self.i)
                self.i += 1
                if key in out:
                    raise ValueError("duplicate key %s" % key)
                out[key] = self.value()
                self.ws()
                c = self.s[self.i]
                self.i += 1
                if c == "}":
                    return out
                if c != ",":
                    raise ValueError("expected , or } at %d" % self.i)
        m = re.compile(r"[^,\]\}\s][^,\]\}]*").match(self.s, self.i)
        if not m:
            raise ValueError("bad scalar at %d" % self.i)
        self.i = m.end()
        v = m.group(0).strip()
        return {"true": True, "false": False}.get(v, v)


def parse_task_yaml(text):
    out = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^([a-z_]+):\s*(.*)$", line)
        if not m:
            raise ValueError("unexpected line: %r" % line)
        key, rest = m.group(1), m.group(2)
        if key in out:
            raise ValueError("duplicate key %s" % key)
        if rest == "":
            items = []
            while i < len(lines) and lines[i].startswith("  - "):
                p = FlowParser(lines[i][4:])
                items.append(p.value())
                p.ws()
                if p.i != len(p.s):
                    raise ValueError("trailing text: %r" % lines[i])
                i += 1
            out[key] = items
        else:
            p = FlowParser(rest)
            out[key] = p.value()
            p.ws()
            if p.i != len(p.s):
                raise ValueError("trailing text: %r" % line)
    return out


# ----------------------------------------------------------------- checks
def render(text, ex, options):
    def sub(m):
        f = m.group(1)
        if f == "options_":
            return "OPTIONS:\n" + "\n".join("- " + o for o in options)
        return ex[f]
    return PLACEHOLDER.sub(sub, text)


def input_key(ex):
    return json.dumps({k: v for k, v in ex.items() if k not in ("answer", "options")}, sort_keys=True, ensure_ascii=False)


def check_task(d, name, errors, stats):
    def err(msg):
        errors.append("%s: %s" % (name, msg))
    path = os.path.join(d, "task.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        y = parse_task_yaml(text)
    except ValueError as e:
        err("task.yaml does not parse: %s" % e)
        return
    try:
        import yaml  # optional cross-check
        y2 = yaml.safe_load(text)
        if y2 != y:
            err("PyYAML reads task.yaml differently from the subset parser")
    except ImportError:
        pass
    allowed = {"name", "cluster", "kind", "metric", "options", "data", "source", "license", "templates"}
    for k in y:
        if k not in allowed:
            err("unknown key %r" % k)
    if y.get("name") != name or not re.fullmatch(r"[a-z0-9_]+", name):
        err("name %r does not equal the directory name" % y.get("name"))
    if not re.fullmatch(r"[a-z][a-z0-9_]*", str(y.get("cluster", ""))):
        err("cluster missing or not snake_case")
    kind, metric = y.get("kind"), y.get("metric")
    if kind not in KINDS:
        err("kind %r" % kind)
    if metric not in METRICS:
        err("metric %r" % metric)
    if kind == "classification" and metric != "accuracy":
        err("classification task with metric %s" % metric)
    for k in ("source", "license"):
        if not isinstance(y.get(k), str) or not y[k].strip():
            err("missing %s" % k)
    if y.get("cluster") in SYNTHETIC_CLUSTERS and not str(y.get("source", "")).startswith("synthetic:"):
        err("cluster %s is generated but source does not start with 'synthetic:'" % y.get("cluster"))
    opts = y.get("options")
    if opts is not None and (not isinstance(opts, list) or len(opts) < 2 or len(set(opts)) != len(opts)
                             or not all(isinstance(o, str) and o for o in opts)):
        err("options must be a list of >= 2 distinct strings")
    data = y.get("data")
    if not isinstance(data, dict) or set(data) != {"train", "validation"}:
        err("data must map train and validation")
        return
    templates = y.get("templates") or []
    if len(templates) < 10:
        err("only %d templates" % len(templates))
    turned = 0
    for ti, t in enumerate(templates):
        if not isinstance(t, dict) or not {"input", "target"} <= set(t) or not set(t) <= {"input", "target", "turned"}:
            err("template %d must have keys input, target and optional turned" % ti)
            continue
        if t.get("turned") is True:
            turned += 1
        elif "turned" in t and t["turned"] is not False:
            err("template %d: turned must be a boolean" % ti)
        for part in ("input", "target"):
            s = t[part]
            if not isinstance(s, str) or not s.strip():
                err("template %d: empty %s" % (ti, part))
                continue
            rest = PLACEHOLDER.sub("", s)
            if "{" in rest or "}" in rest:
                err("template %d: stray brace in %s" % (ti, part))
            if s != s.strip():
                err("template %d: %s has leading/trailing whitespace" % (ti, part))
        if "{options_}" in t["input"] and not t["input"].endswith("{options_}"):
            err("template %d: {options_} is not at the end of the input" % ti)
        if "{options_}" in t["target"]:
            err("template %d: {options_} in target" % ti)
    if turned > 3:
        err("%d turned templates (max 3)" % turned)
    if kind == "classification" and not any("{options_}" in t.get("input", "") for t in templates if not t.get("turned")):
        err("no classification template shows {options_}")

    splits = {}
    for split in ("train", "validation"):
        p = os.path.join(d, data[split])
        if not os.path.exists(p):
            err("missing %s" % data[split])
            return
        rows = []
        with open(p, encoding="utf-8") as f:
            for ln, line in enumerate(f, 1):
                try:
                    ex = json.loads(line)
                except ValueError:
                    err("%s:%d is not JSON" % (data[split], ln))
                    continue
                if not isinstance(ex, dict):
                    err("%s:%d is not an object" % (data[split], ln))
                    continue
                rows.append((ln, ex))
        if not rows:
            err("%s is empty" % data[split])
        splits[split] = rows

    n_render = 0
    for split, rows in splits.items():
        for ln, ex in rows:
            where = "%s:%d" % (data[split], ln)
            if "answer" not in ex:
                err("%s has no answer" % where)
                continue
            bad = [k for k, v in ex.items() if k != "options" and not isinstance(v, str)]
            if bad:
                err("%s: non-string fields %s" % (where, bad))
                continue
            eo = ex.get("options")
            if eo is not None and (not isinstance(eo, list) or not all(isinstance(o, str) and o for o in eo)
                                   or len(set(eo)) != len(eo) or len(eo) < 2):
                err("%s: options must be >= 2 distinct strings" % where)
                continue
            if opts is not None and eo is not None:
                err("%s: per-example options in a task with fixed options" % where)
            o = eo if eo is not None else opts
            if kind == "classification":
                if o is None:
                    err("%s: classification example without options" % where)
                    continue
                if ex["answer"] not in o:
                    err("%s: answer %r not in options" % (where, ex["answer"]))
            for ti, t in enumerate(templates):
                if not isinstance(t, dict) or "input" not in t or "target" not in t:
                    continue
                for part in ("input", "target"):
                    for fld in PLACEHOLDER.findall(t[part]):
                        if fld == "options_":
                            if o is None:
                                err("%s: template %d shows options but the example has none" % (where, ti))
                        elif fld not in ex:
                            err("%s: template %d names missing field {%s}" % (where, ti, fld))
                try:
                    ri = render(t["input"], ex, o or [])
                    rt = render(t["target"], ex, o or [])
                    n_render += 1
                    if not rt.strip():
                        err("%s: template %d renders an empty target" % (where, ti))
                except KeyError:
                    pass
    tr, va = splits.get("train", []), splits.get("validation", [])
    full_tr = {json.dumps(ex, sort_keys=True, ensure_ascii=False) for _, ex in tr}
    full_va = {json.dumps(ex, sort_keys=True, ensure_ascii=False) for _, ex in va}
    if full_tr & full_va:
        err("%d examples occur in both train and validation" % len(full_tr & full_va))
    key_tr = {input_key(ex) for _, ex in tr}
    key_va = {input_key(ex) for _, ex in va}
    if key_tr & key_va:
        err("%d inputs occur in both train and validation" % len(key_tr & key_va))
    # informational: validation prompts (non-turned templates) also seen in training
    seen = 0
    for t in templates:
        if t.get("turned") or not isinstance(t, dict) or "input" not in t:
            continue
        try:
            a = {render(t["input"], ex, ex.get("options") or opts or []) for _, ex in tr}
            b = {render(t["input"], ex, ex.get("options") or opts or []) for _, ex in va}
            seen += len(a & b)
        except KeyError:
            pass
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    stats.append({"name": name, "cluster": y.get("cluster"), "kind": kind, "metric": metric,
                  "templates": len(templates), "turned": turned, "train": len(tr), "validation": len(va),
                  "bytes": size, "prompt_overlap": seen, "renders": n_render})


def main(root):
    errors, stats = [], []
    names = sorted(n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n)))
    for n in names:
        if not os.path.exists(os.path.join(root, n, "task.yaml")):
            errors.append("%s: directory without task.yaml" % n)
            continue
        check_task(os.path.join(root, n), n, errors, stats)
    clusters = sorted({s["cluster"] for s in stats})
    print("%-28s %-22s %-14s %-11s %4s %3s %6s %5s %8s %s" % (
        "task", "cluster", "kind", "metric", "tmpl", "trn", "train", "valid", "bytes", "val-prompts-in-train"))
    for s in sorted(stats, key=lambda s: (s["cluster"], s["name"])):
        print("%-28s %-22s %-14s %-11s %4d %3d %6d %5d %8d %d" % (
            s["name"], s["cluster"], s["kind"], s["metric"], s["templates"], s["turned"], s["train"],
            s["validation"], s["bytes"], s["prompt_overlap"]))
    total = sum(s["bytes"] for s in stats)
    print("%d tasks, %d clusters, %d train + %d validation examples, %d template renderings, %.2f MB" % (
        len(stats), len(clusters), sum(s["train"] for s in stats), sum(s["validation"] for s in stats),
        sum(s["renders"] for s in stats), total / 1e6))
    if len(clusters) < 8:
        errors.append("only %d clusters (need >= 8)" % len(clusters))
    if len(stats) < 24:
        errors.append("only %d tasks (need >= 24)" % len(stats))
    for e in errors:
        print("ERROR " + e)
    print("validation %s: %d errors" % ("FAILED" if errors else "passed", len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "tasks")
    sys.exit(main(os.path.normpath(sys.argv[1] if len(sys.argv) > 1 else default)))
