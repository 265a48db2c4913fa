#!/usr/bin/python3
"""Writes src/test/resources/metrics/reference.json: reference values for flan-tune's metrics.

The packages the Java metrics must match (sacrebleu, rouge-score, the SQuAD v1.1 script) are not
in Debian, so this script re-implements each one from its published source, in Python, where
string semantics (str.lower, str.split, re) are the originals' own. Where an independent
implementation exists here (NLTK's BLEU), the script checks itself against it before writing.

  * exact match / F1: the official SQuAD v1.1 evaluate script (normalize_answer, f1_score,
    exact_match_score, metric_max_over_ground_truths).
  * BLEU: sacrebleu 2.x with its defaults: 13a tokenizer, mixed case, max order 4,
    smooth_method='exp'; corpus_score without effective order (BLEU()'s default) and
    sentence_score with effective order (sacrebleu.sentence_bleu's default).
  * ROUGE-1/2/L: rouge-score's RougeScorer(use_stemmer=False).score / score_multi.

Also written: tables of Python's str.isspace, regex \\w and str.lower over all of Unicode, so the
Java port of those semantics is checked on every code point, not just on the cases.

Run: /usr/bin/python3 scripts/reference/metrics_ref.py [--out FILE]. Output is deterministic.
"""

import argparse
import collections
import json
import math
import os
import re
import string
import sys

from nltk.translate import bleu_score as nltk_bleu

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "src", "test", "resources", "metrics", "reference.json")

# ----------------------------------------------------------------------------- SQuAD v1.1


def squad_normalize(s):
    """Lower text and remove punctuation, articles and extra whitespace."""

    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def squad_f1(prediction, ground_truth):
    p = squad_normalize(prediction).split()
    g = squad_normalize(ground_truth).split()
    common = collections.Counter(p) & collections.Counter(g)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = 1.0 * num_same / len(p)
    recall = 1.0 * num_same / len(g)
    return (2 * precision * recall) / (precision + recall)


def squad_em(prediction, ground_truth):
    return float(squad_normalize(prediction) == squad_normalize(ground_truth))


def max_over(fn, prediction, ground_truths):
    return max(fn(prediction, gt) for gt in ground_truths)


# ----------------------------------------------------------------------------- sacrebleu BLEU

MAX_ORDER = 4

_13A_RULES = [
    # punctuation and symbols except ' , - . (ranges as in mteval-v13a.pl)
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    # period and comma unless preceded by a digit
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    # period and comma unless followed by a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    # dash when preceded by a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]


def tokenize_13a(line):
    line = line.replace("<skipped>", "")
    line = line.replace("-\n", "")
    line = line.replace("\n", " ")
    line = line.replace("&quot;", '"')
    line = line.replace("&amp;", "&")
    line = line.replace("&lt;", "<")
    line = line.replace("&gt;", ">")
    line = " {} ".format(line)
    for pattern, repl in _13A_RULES:
        line = pattern.sub(repl, line)
    return " ".join(line.strip().split())


def preprocess(sent):
    return tokenize_13a(sent.rstrip())


def ngrams(line):
    tokens = line.split()
    counts = collections.Counter()
    for n in range(1, MAX_ORDER + 1):
        for i in range(0, len(tokens) - n + 1):
            counts[tuple(tokens[i:i + n])] += 1
    return counts, len(tokens)


def closest_ref_len(hyp_len, ref_lens):
    closest_diff, closest_len = -1, -1
    for ref_len in ref_lens:
        diff = abs(hyp_len - ref_len)
        if closest_diff == -1 or diff < closest_diff:
            closest_diff, closest_len = diff, ref_len
        elif diff == closest_diff and ref_len < closest_len:
            closest_len = ref_len
    return closest_len


def segment_stats(hyp, refs):
    """[hyp_len, ref_len, correct_1..4, total_1..4] for one segment (refs: its references)."""
    refs = [r for r in refs if r is not None and r != ""]
    if not refs:
        raise ValueError("empty reference")  # sacrebleu raises too
    ref_ngrams, ref_lens = None, []
    for ref in refs:
        counts, length = ngrams(preprocess(ref))
        ref_lens.append(length)
        if ref_ngrams is None:
            ref_ngrams = counts
        else:
            for g, c in counts.items():
                ref_ngrams[g] = max(ref_ngrams[g], c)
    hyp_ngrams, hyp_len = ngrams(preprocess(hyp))
    correct = [0] * MAX_ORDER
    total = [0] * MAX_ORDER
    for g, c in hyp_ngrams.items():
        total[len(g) - 1] += c
        if g in ref_ngrams:
            correct[len(g) - 1] += min(c, ref_ngrams[g])
    return [hyp_len, closest_ref_len(hyp_len, ref_lens)] + correct + total


def my_log(x):
    return -9999999999 if x == 0.0 else math.log(x)


def compute_bleu(correct, total, sys_len, ref_len, effective_order):
    """sacrebleu's BLEU.compute_bleu with smooth_method='exp'."""
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    else:
        bp = 1.0
    precisions = [0.0] * MAX_ORDER
    if not any(correct):
        return dict(score=0.0, precisions=precisions, bp=bp, sys_len=sys_len, ref_len=ref_len,
                    correct=correct, total=total)
    smooth_mteval = 1.0
    eff_order = MAX_ORDER
    for n in range(1, MAX_ORDER + 1):
        if total[n - 1] == 0:
            break
        if effective_order:
            eff_order = n
        if correct[n - 1] == 0:
            smooth_mteval *= 2
            precisions[n - 1] = 100.0 / (smooth_mteval * total[n - 1])
        else:
            precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
    score = bp * math.exp(sum(my_log(p) for p in precisions[:eff_order]) / eff_order)
    return dict(score=score, precisions=precisions, bp=bp, sys_len=sys_len, ref_len=ref_len,
                correct=correct, total=total)


def corpus_bleu(hyps, refs_per_segment, effective_order=False):
    sums = [0] * (2 + 2 * MAX_ORDER)
    for hyp, refs in zip(hyps, refs_per_segment, strict=True):
        for i, v in enumerate(segment_stats(hyp, refs)):
            sums[i] += v
    return compute_bleu(sums[2:2 + MAX_ORDER], sums[2 + MAX_ORDER:], sums[0], sums[1],
                        effective_order)


def sentence_bleu(hyp, refs):
    return corpus_bleu([hyp], [refs], effective_order=True)


def nltk_corpus_bleu(hyps, refs_per_segment):
    """NLTK's unsmoothed corpus BLEU (0..100) on 13a tokens: equal to sacrebleu when every
    n-gram order has at least one match (no smoothing is then applied by either)."""
    hyp_tokens = [preprocess(h).split() for h in hyps]
    ref_tokens = [[preprocess(r).split() for r in refs] for refs in refs_per_segment]
    return 100.0 * nltk_bleu.corpus_bleu(ref_tokens, hyp_tokens)


# ----------------------------------------------------------------------------- rouge-score


def rouge_tokenize(text):
    text = text.lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    tokens = re.split(r"\s+", text)
    return [x for x in tokens if re.match(r"^[a-z0-9]+$", x)]


def fmeasure(p, r):
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def rouge_n(target, prediction, n):
    def grams(tokens):
        return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))

    t, p = grams(target), grams(prediction)
    inter = sum(min(t[g], p[g]) for g in t)
    precision = inter / max(sum(p.values()), 1)
    recall = inter / max(sum(t.values()), 1)
    return dict(precision=precision, recall=recall, fmeasure=fmeasure(precision, recall))


def rouge_l(target, prediction):
    if not target or not prediction:
        return dict(precision=0.0, recall=0.0, fmeasure=0.0)
    table = [[0] * (len(prediction) + 1) for _ in range(len(target) + 1)]
    for i in range(1, len(target) + 1):
        for j in range(1, len(prediction) + 1):
            if target[i - 1] == prediction[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    lcs = table[-1][-1]
    precision = lcs / len(prediction)
    recall = lcs / len(target)
    return dict(precision=precision, recall=recall, fmeasure=fmeasure(precision, recall))


def rouge_score(target, prediction):
    t, p = rouge_tokenize(target), rouge_tokenize(prediction)
    return dict(rouge1=rouge_n(t, p, 1), rouge2=rouge_n(t, p, 2), rougeL=rouge_l(t, p))


def rouge_score_multi(targets, prediction):
    """score_multi: per type, the target with the highest F (first on ties, like np.argmax)."""
    per = [rouge_score(t, prediction) for t in targets]
    out = {}
    for key in ("rouge1", "rouge2", "rougeL"):
        best = max(range(len(per)), key=lambda i: (per[i][key]["fmeasure"], -i))
        out[key] = per[best][key]
    return out


# ----------------------------------------------------------------------------- cases

PAPINENI_REFS = [
    "It is a guide to action that ensures that the military will forever heed Party commands.",
    "It is the guiding principle which guarantees the military forces always being under the "
    "command of the Party.",
    "It is the practical guide for the army always to heed the directions of the party.",
]

CASES = [
    ("identical", "The cat sat on the mat.", ["The cat sat on the mat."]),
    ("partial overlap", "the cat is on the mat", ["there is a cat on the mat"]),
    ("empty hypothesis", "", ["A short reference."]),
    ("whitespace-only hypothesis", " \t\n", ["yes"]),
    ("punctuation heavy", 'Hello, world! (Really?) "quoted" & stuff...',
     ["Hello world, really quoted and stuff."]),
    ("numbers and separators", "It costs $1,000.50 in 2019-2020, i.e. 3.5%.",
     ["It cost 1,000.50 dollars in 2019 - 2020, i.e. 3.5 %."]),
    ("unicode letters and quotes", "Café naïve résumé — “quotes” 東京 ok",
     ["cafe naive resume quotes 東京 ok"]),
    ("repeated n-grams", "the the the the the the the", ["the cat is on the mat"]),
    ("long hypothesis", "the quick brown fox jumps over the lazy dog and then runs far away "
     "into the dark forest where nobody can find it", ["the quick brown fox jumps over the lazy dog"]),
    ("short hypothesis", "cat", ["the cat sat on the mat today"]),
    ("three references (Papineni)", "It is a guide to action which ensures that the military "
     "always obeys the commands of the party.", PAPINENI_REFS),
    ("closest length tie prefers shorter", "a b c d e", ["a b c d", "a b c d e f", "x"]),
    ("articles only differ", "An apple a day", ["the apple day"]),
    ("html entities", "5 &lt; 6 &amp; 7 &gt; 3 &quot;ok&quot;", ['5 < 6 & 7 > 3 "ok"']),
    ("hyphen-newline join", "state-of-the-\nart model\nworks", ["state-of-the-art model works"]),
    ("unicode whitespace", "new\u00a0york  \t city\u2003now", ["New York City now"]),
    ("case differs", "PARIS", ["Paris"]),
    ("trailing whitespace", "yes \n", ["yes"]),
    ("skipped marker", "we <skipped> went home", ["we went home"]),
    ("decimals and final period", "version 3.14 and 2.0. Done.", ["version 3.14, and 2.0 done"]),
    ("punctuation only", "...", ["!!!"]),
    ("article only", "the", ["a"]),
    ("dotted I and sharp s", "İstanbul STRASSE straße", ["istanbul strasse"]),
    ("greek final sigma", "ΟΔΟΣ ΚΑΛΟΣ", ["οδος καλος"]),
    ("article next to accented letter", "théâtre the end", ["théâtre end"]),
    ("underscore and digits", "the_answer is 42 an_a", ["answer 42"]),
    ("emoji and supplementary", "good 👍 job 😀.", ["good job."]),
    ("variable reference count", "the answer is yes", ["", "the answer is yes indeed", "yes"]),
]


def case_entry(name, hyp, refs):
    usable = [r for r in refs if r != ""]
    entry = dict(name=name, hypothesis=hyp, references=refs)
    entry["exact_match"] = max_over(squad_em, hyp, refs)
    entry["f1"] = max_over(squad_f1, hyp, refs)
    entry["squad_normalized"] = squad_normalize(hyp)
    entry["tokens_13a"] = preprocess(hyp)
    entry["rouge_tokens"] = rouge_tokenize(hyp)
    entry["sentence_bleu"] = sentence_bleu(hyp, usable)
    entry["rouge"] = rouge_score_multi(refs, hyp)
    return entry


def corpus_entries():
    """Corpus-level BLEU over several sub-corpora chosen to hit every branch of compute_bleu."""
    subsets = {
        "all cases": [c for c in CASES],
        "all orders matched": [c for c in CASES if c[0] in (
            "identical", "partial overlap", "long hypothesis", "three references (Papineni)",
            "numbers and separators")],
        "no 4-grams at all (order total 0)": [("a", "a b", ["a b c"]), ("b", "c d e", ["c d"])],
        "no matches": [("x", "foo bar", ["baz qux"]), ("y", "", ["nothing here"])],
        "zero 3- and 4-gram matches (exp smoothing)": [
            ("p", "a b x c d y", ["a b c d"]), ("q", "e f z g h", ["e f g h"])],
    }
    out = []
    for name, cases in subsets.items():
        hyps = [c[1] for c in cases]
        refs = [[r for r in c[2] if r != ""] for c in cases]
        bleu = corpus_bleu(hyps, refs)
        e = dict(name=name, hypotheses=hyps, references=refs, bleu=bleu)
        if name == "all orders matched":
            assert all(x > 0 for x in bleu["correct"]), bleu
            nltk_value = nltk_corpus_bleu(hyps, refs)
            assert math.isclose(nltk_value, bleu["score"], rel_tol=1e-12), (nltk_value, bleu)
            e["nltk_unsmoothed_bleu"] = nltk_value
        out.append(e)
    return out


def nltk_sentence_checks(entries):
    """For every case whose four orders all have matches, NLTK's unsmoothed sentence BLEU must
    equal sacrebleu's sentence BLEU (effective order is then 4 and no smoothing applies)."""
    checked = 0
    for e in entries:
        b = e["sentence_bleu"]
        if b["total"][3] > 0 and all(x > 0 for x in b["correct"]):
            refs = [preprocess(r).split() for r in e["references"] if r != ""]
            got = 100.0 * nltk_bleu.sentence_bleu(refs, preprocess(e["hypothesis"]).split())
            assert math.isclose(got, b["score"], rel_tol=1e-12), (e["name"], got, b["score"])
            checked += 1
    assert checked >= 3, checked
    return checked


# ----------------------------------------------------------------------------- Python semantics


def ranges(predicate):
    out, start = [], None
    for cp in range(0x110000):
        if predicate(cp):
            if start is None:
                start = cp
        elif start is not None:
            out.append([start, cp - 1])
            start = None
    if start is not None:
        out.append([start, 0x10FFFF])
    return out


def python_semantics():
    word = re.compile(r"\w")
    lower = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        lo = ch.lower()
        if lo != ch:
            lower[str(cp)] = [ord(c) for c in lo]
    return dict(
        unicode_version=__import__("unicodedata").unidata_version,
        isspace_ranges=ranges(lambda cp: chr(cp).isspace()),
        word_ranges=ranges(lambda cp: word.match(chr(cp)) is not None),
        lower=lower,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    entries = [case_entry(*c) for c in CASES]
    checked = nltk_sentence_checks(entries)
    doc = dict(
        generator="scripts/reference/metrics_ref.py",
        python=sys.version.split()[0],
        nltk=__import__("nltk").__version__,
        nltk_sentence_cross_checks=checked,
        bleu_scale="0..100 as sacrebleu",
        cases=entries,
        corpus=corpus_entries(),
        python_semantics=python_semantics(),
    )
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1, sort_keys=False)
        f.write("\n")
    print(f"wrote {args.out}: {len(entries)} cases, {len(doc['corpus'])} corpora, "
          f"{checked} NLTK sentence cross-checks")


if __name__ == "__main__":
    main()
