"""Tasks built from npm world-countries: closed-book QA, struct-to-text, translation,
and (synthetic) reading comprehension, summarization and NLI over its facts."""
from common import T, Task, emit, rng, cap, a, sentence
import sources as S

PKG = "npm world-countries@5.1.0 (countries.json)"
LIC = "ODbL-1.0 (world-countries database by Mohammed Le Doze; derived database, share-alike)"

LANGS = {"ara": "Arabic", "ces": "Czech", "deu": "German", "est": "Estonian", "fin": "Finnish",
         "fra": "French", "hrv": "Croatian", "hun": "Hungarian", "ita": "Italian",
         "jpn": "Japanese", "kor": "Korean", "nld": "Dutch", "per": "Persian", "pol": "Polish",
         "por": "Portuguese", "rus": "Russian", "slk": "Slovak", "spa": "Spanish",
         "srp": "Serbian", "swe": "Swedish", "tur": "Turkish", "urd": "Urdu", "zho": "Chinese"}


def join(xs):
    xs = list(xs)
    if len(xs) == 1:
        return xs[0]
    return ", ".join(xs[:-1]) + " and " + xs[-1]


THE = {"Bahamas", "Gambia", "Netherlands", "Philippines", "Maldives", "Comoros", "Seychelles",
       "Caribbean Netherlands", "Isle of Man", "Falkland Islands", "Faroe Islands"}


def the(name):
    """The name as it reads inside a sentence ("the United Kingdom")."""
    if name in THE or name.startswith("United ") or name.endswith((" Islands", " Republic")) \
            or " Republic of " in name:
        return "the " + name
    return name


def loc(x):
    return "the " + x if x in ("Caribbean", "Americas", "Antarctic") else x


def plural_demonym(d):
    return d if d.endswith(("s", "sh", "ch", "ese", "x")) else d + "s"


def fmt_area(x):
    if x >= 100:
        return "{:,}".format(int(round(x)))
    s = ("%.2f" % x).rstrip("0").rstrip(".")
    return s


def facts(rows):
    by3 = {c["cca3"]: c["name"]["common"] for c in rows}
    out = []
    for c in rows:
        f = {"name": c["name"]["common"], "official": c["name"]["official"], "code3": c["cca3"],
             "code2": c["cca2"]}
        f["kind"] = "country" if c.get("independent") else "territory"
        f["capital"] = c["capital"][0] if len(c["capital"]) == 1 else ""
        f["region"] = c["region"]
        f["subregion"] = c.get("subregion") or ""
        f["languages"] = list(c["languages"].values())
        f["currencies"] = [v["name"] for v in c["currencies"].values()]
        f["landlocked"] = bool(c["landlocked"])
        f["borders"] = sorted(the(by3[b]) for b in c["borders"] if b in by3)
        f["area"] = fmt_area(c["area"]) if c.get("area", -1) > 0 else ""
        dem = c.get("demonyms", {}).get("eng", {}).get("m", "")
        f["demonym"] = dem
        f["tld"] = c["tld"][0] if c.get("tld") else ""
        idd = c.get("idd", {})
        if idd.get("root"):
            suf = idd.get("suffixes", [])
            f["calling"] = idd["root"] + (suf[0] if len(suf) == 1 else "")
        else:
            f["calling"] = ""
        f["un"] = bool(c.get("unMember"))
        f["translations"] = {k: v for k, v in sorted(c.get("translations", {}).items())}
        f["where"] = f["subregion"] or f["region"]
        f["at"] = loc(f["where"])
        f["people"] = plural_demonym(dem) if dem else ""
        f["the"] = the(f["name"])
        out.append(f)
    return out


# ------------------------------------------------------------------ sentence realisation
def fact_sentences(f, r):
    """Sentences stating each fact, keyed by fact name; the phrase used for each
    answerable value is returned alongside so questions can point at a span."""
    n = f["the"]
    s = {}
    if f["official"] != n:
        s["intro"] = r.choice([
            "%s, officially the %s, is %s in %s." % (n, f["official"], a(f["kind"]), f["at"]),
            "%s (officially the %s) is %s located in %s." % (n, f["official"], a(f["kind"]), f["at"]),
        ]) if f["where"] else "%s is officially called the %s." % (n, f["official"])
    elif f["where"]:
        s["intro"] = "%s is %s in %s." % (n, a(f["kind"]), f["at"])
    if f["capital"]:
        s["capital"] = r.choice(["Its capital is %s." % f["capital"],
                                 "The capital city of %s is %s." % (n, f["capital"]),
                                 "%s is its capital and seat of government." % f["capital"]])
    if f["languages"]:
        if len(f["languages"]) == 1:
            s["languages"] = r.choice(["The official language is %s." % f["languages"][0],
                                       "%s is the official language of %s." % (f["languages"][0], n)])
        else:
            s["languages"] = "Its official languages are %s." % join(f["languages"])
    if len(f["currencies"]) == 1:
        s["currency"] = r.choice(["The currency used there is the %s." % f["currencies"][0],
                                  "%s uses the %s as its currency." % (n, f["currencies"][0])])
    if f["area"]:
        s["area"] = r.choice(["It covers an area of %s square kilometres." % f["area"],
                              "%s has a total area of %s square kilometres." % (n, f["area"])])
    if f["borders"]:
        lead = "%s is landlocked and shares borders with " % n if f["landlocked"] else \
            "%s shares land borders with " % n
        s["borders"] = lead + join(f["borders"]) + "."
    elif f["landlocked"] is False and f["kind"] == "country":
        s["borders"] = "%s has no land borders with other countries." % n
    if f["demonym"]:
        s["demonym"] = "People from %s are called %s." % (n, f["people"])
    if f["tld"]:
        s["tld"] = "Its internet country code top-level domain is %s." % f["tld"]
    if f["calling"]:
        s["calling"] = "Telephone numbers there use the international calling code %s." % f["calling"]
    if f["kind"] == "country":
        s["un"] = ("%s is a member state of the United Nations." % n) if f["un"] else \
            ("%s is not a member of the United Nations." % n)
    return {k: cap(v) for k, v in s.items()}


ORDER = ["intro", "capital", "languages", "currency", "area", "borders", "demonym", "calling", "tld", "un"]


def passage(f, salt):
    r = rng(f["code3"], salt)
    s = fact_sentences(f, r)
    keys = [k for k in ORDER if k in s]
    return " ".join(s[k] for k in keys), s


# ------------------------------------------------------------------ tasks
def capitals(root, F):
    ex = [{"country": f["the"], "answer": f["capital"]} for f in F if f["capital"]]
    t = Task("world_capitals_qa", "closed_book_qa", "generation", "exact_match",
             "%s: the capital field of each of the 250 countries and territories" % PKG, LIC, [
                 T("What is the capital of {country}?"),
                 T("Question: What is the capital city of {country}?\nAnswer:"),
                 T("Which city is the capital of {country}?"),
                 T("Which city is {country}'s capital?"),
                 T("Answer this question.\n\nWhat city serves as the capital of {country}?"),
                 T("Name the capital of {country}."),
                 T("Q: The capital of {country} is what city?\nA:"),
                 T("Trivia question: What is the name of the capital of {country}?"),
                 T("What is the answer to this question? What is {country}'s capital?"),
                 T("Please answer the following geography question: what is the capital of {country}?"),
                 T("{answer} is the capital of which country or territory?", "{country}", True),
                 T("Write a trivia question whose answer is \"{answer}\".",
                   "What is the capital of {country}?", True),
             ])
    return emit(root, t, ex)


def facts_qa(root, F):
    ex = []
    for f in F:
        n = f["the"]

        def add(qs, ans):
            if ans:
                ex.append({"country": n, "question": cap(qs), "answer": ans})
        add("In which region of the world is %s?" % n, f["region"])
        add("Which subregion of the world is %s part of?" % n, f["subregion"])
        if len(f["currencies"]) == 1:
            add("What currency is used in %s?" % n, f["currencies"][0])
        if len(f["languages"]) == 1:
            add("What is the official language of %s?" % n, f["languages"][0])
        if f["kind"] == "country":
            add("Is %s landlocked?" % n, "yes" if f["landlocked"] else "no")
            add("Is %s a member of the United Nations?" % n, "yes" if f["un"] else "no")
        add("What is the internet country code top-level domain of %s?" % n, f["tld"])
        add("What is the international calling code of %s?" % n, f["calling"])
        add("What is the three-letter ISO country code of %s?" % n, f["code3"])
        add("What is the two-letter ISO country code of %s?" % n, f["code2"])
        add("What do you call a person from %s?" % n, f["demonym"])
        if len(f["borders"]) == 1:
            add("Which is the only country that shares a land border with %s?" % n, f["borders"][0])
        if f["borders"]:
            add("How many countries share a land border with %s?" % n, str(len(f["borders"])))
    t = Task("country_facts_qa", "closed_book_qa", "generation", "exact_match",
             "%s: region, subregion, currency, language, landlocked, UN membership, TLD, calling code, ISO codes, demonym and borders turned into questions" % PKG,
             LIC, [
                 T("{question}"),
                 T("Q: {question}\nA:"),
                 T("Answer the following question.\n{question}"),
                 T("Question: {question}\nAnswer:"),
                 T("{question}\nWhat is the answer?"),
                 T("Here is a geography question: {question}"),
                 T("Please answer this question about {country}: {question}"),
                 T("I have a question about {country}. {question}"),
                 T("Trivia: {question}"),
                 T("Answer briefly. {question}"),
                 T("Write a question about {country} whose answer is \"{answer}\".", "{question}", True),
                 T("The answer is \"{answer}\". What was the question about {country}?", "{question}", True),
             ])
    return emit(root, t, ex)


def record_to_text(root, F):
    ex = []
    for f in F:
        attrs = []
        if f["where"]:
            attrs.append(("region", f["at"]))
        if f["capital"]:
            attrs.append(("capital", f["capital"]))
        if f["languages"] and len(f["languages"]) <= 3:
            attrs.append(("languages", join(f["languages"])))
        if len(f["currencies"]) == 1:
            attrs.append(("currency", f["currencies"][0]))
        if f["area"]:
            attrs.append(("area", f["area"] + " km2"))
        if f["borders"] and len(f["borders"]) <= 4:
            attrs.append(("borders", join(f["borders"])))
        if f["kind"] == "country":
            attrs.append(("landlocked", "yes" if f["landlocked"] else "no"))
        if f["demonym"]:
            attrs.append(("demonym", f["demonym"]))
        if len(attrs) < 3:
            continue
        r = rng(f["code3"], "s2t")
        for k in range(3):
            size = min(len(attrs), r.choice([3, 4, 5]))
            chosen = sorted(r.sample(range(len(attrs)), size))
            sub = [attrs[i] for i in chosen]
            record = ", ".join(["name[%s]" % f["name"]] + ["%s[%s]" % (kk, v) for kk, v in sub])
            ex.append({"record": record, "answer": realise(f, dict(sub), r)})
    t = Task("country_record_to_text", "struct_to_text", "generation", "rouge_l",
             "%s: subsets of each record's attributes rendered as an attribute list (input) and as English sentences (target)" % PKG,
             LIC, [
                 T("Data: {record}\n\nWrite a sentence that describes this data."),
                 T("Generate a short description of a country from this data: {record}"),
                 T("{record}\n\nTurn these facts into fluent English."),
                 T("Here is some data about a place: {record}.\n\nWrite a sentence or two that include all of it."),
                 T("Attributes: {record}\nDescription:"),
                 T("Write a sentence about the following facts:\n{record}"),
                 T("Produce a detailed sentence about this country using the following facts: {record}"),
                 T("Facts: {record}\n\nDescribe this country in plain English."),
                 T("Convert this table row into text: {record}"),
                 T("Use the facts below to write a short encyclopedia-style description.\n\n{record}"),
                 T("Sentence: {answer}\n\nWhat structured data could we extract from this sentence?", "{record}", True),
                 T("Extract the key facts from this text as a list of attributes: {answer}", "{record}", True),
             ])
    return emit(root, t, ex)


def realise(f, d, r):
    n = f["the"]
    parts = []
    if "region" in d:
        parts.append("%s is %s in %s" % (n, a(f["kind"]), d["region"]))
    else:
        parts.append("%s is %s" % (n, a(f["kind"])))
    clauses = []
    if "capital" in d:
        clauses.append(r.choice(["its capital is %s" % d["capital"], "its capital city is %s" % d["capital"]]))
    if "languages" in d:
        many = " and " in d["languages"] or "," in d["languages"]
        clauses.append("%s %s spoken there" % (d["languages"], "are" if many else "is"))
    if "currency" in d:
        clauses.append(r.choice(["it uses the %s" % d["currency"], "its currency is the %s" % d["currency"]]))
    first = parts[0]
    out = [first + (", and " + clauses[0] if clauses else "") + "."]
    rest = clauses[1:]
    if rest:
        out.append(cap(join(rest)) + ".")
    extra = []
    if "area" in d:
        extra.append("covers %s square kilometres" % d["area"].replace(" km2", ""))
    if "borders" in d:
        extra.append("borders %s" % d["borders"])
    if "landlocked" in d:
        extra.append("is landlocked" if d["landlocked"] == "yes" else "has access to the sea")
    if extra:
        out.append("It " + join(extra) + ".")
    if "demonym" in d:
        out.append("Its people are called %s." % plural_demonym(d["demonym"]) if r.random() < 0.5 else
                   "The demonym is %s." % d["demonym"])
    return " ".join(cap(x) for x in out)


def name_translation(root, F):
    ex = []
    for f in F:
        for code, lang in sorted(LANGS.items()):
            tr = f["translations"].get(code, {}).get("common", "")
            if not tr or tr == f["name"]:
                continue
            ex.append({"source_language": "English", "target_language": lang, "text": f["name"], "answer": tr})
            ex.append({"source_language": lang, "target_language": "English", "text": tr, "answer": f["name"]})
    t = Task("country_name_translation", "translation", "generation", "exact_match",
             "%s: the common name of every country in English and its 23 translations (only pairs that differ), both directions" % PKG,
             LIC, _translation_templates("name of a country"))
    return emit(root, t, ex, key_fields=["source_language", "target_language", "text"], group=_english)


def official_translation(root, F):
    ex = []
    for f in F:
        for code, lang in sorted(LANGS.items()):
            tr = f["translations"].get(code, {}).get("official", "")
            if not tr or tr == f["official"] or tr == f["translations"].get(code, {}).get("common"):
                continue
            if f["official"] == f["name"]:
                continue
            ex.append({"source_language": "English", "target_language": lang, "text": f["official"], "answer": tr})
            ex.append({"source_language": lang, "target_language": "English", "text": tr, "answer": f["official"]})
    t = Task("official_name_translation", "translation", "generation", "bleu",
             "%s: official (long-form) country names in English and 23 languages, both directions" % PKG,
             LIC, _translation_templates("official name of a country"))
    return emit(root, t, ex, key_fields=["source_language", "target_language", "text"], group=_english)


def _english(e):
    return e["text"] if e["source_language"] == "English" else e["answer"]


def _translation_templates(what):
    return [
        T("Translate \"{text}\" from {source_language} to {target_language}."),
        T("Translate the %s \"{text}\" into {target_language}." % what),
        T("How do you say \"{text}\" in {target_language}?"),
        T("{source_language}: {text}\n{target_language}:"),
        T("What is \"{text}\" in {target_language}?"),
        T("Translate to {target_language}:\n\n{text}"),
        T("Here is the %s in {source_language}: {text}\nWrite it in {target_language}." % what),
        T("Give the {target_language} for the {source_language} \"{text}\"."),
        T("\"{text}\" is written in {source_language}. What is the {target_language} version?"),
        T("Translate this from {source_language} into {target_language}: {text}"),
        T("Translate \"{answer}\" from {target_language} to {source_language}.", "{text}", True),
        T("{target_language}: {answer}\n{source_language}:", "{text}", True),
    ]


# ------------------------------------------------------------------ reading comprehension (synthetic)
SYN = "synthetic: generated by scripts/data from %s" % PKG


def passage_qa(root, F):
    ex = []
    for f in F:
        text, s = passage(f, "rc")
        n = f["the"]
        qs = []
        if "capital" in s:
            qs.append(("What is the capital of %s?" % n, f["capital"]))
        if "languages" in s:
            qs.append(("What %s the official language%s of %s?" % (
                "are" if len(f["languages"]) > 1 else "is", "s" if len(f["languages"]) > 1 else "", n),
                join(f["languages"])))
        if "currency" in s:
            qs.append(("What currency does %s use?" % n, f["currencies"][0]))
        if "area" in s:
            qs.append(("How many square kilometres does %s cover?" % n, f["area"]))
        if "intro" in s and f["where"]:
            qs.append(("Where is %s located?" % n, f["at"]))
        if "intro" in s and f["official"] != n:
            qs.append(("What is the official name of %s?" % n, "the " + f["official"]))
        if "borders" in s and f["borders"]:
            qs.append(("Which countries does %s share borders with?" % n, join(f["borders"])))
        if "calling" in s:
            qs.append(("What is the international calling code used in %s?" % n, f["calling"]))
        if "tld" in s:
            qs.append(("What is the top-level domain of %s?" % n, f["tld"]))
        if "demonym" in s:
            qs.append(("What are people from %s called?" % n,
                       s["demonym"].split(" are called ")[1].rstrip(".")))
        r = rng(f["code3"], "rcq")
        for qs_, ans in r.sample(qs, min(2, len(qs))):
            assert ans in text, (ans, text)
            ex.append({"passage": text, "question": cap(qs_), "answer": ans})
    t = Task("country_passage_qa", "reading_comprehension", "generation", "f1",
             SYN + ": a passage written from one country's facts and a question whose answer is a span of it", LIC, [
                 T("{passage}\n\nAnswer a question about this article:\n{question}"),
                 T("Read this and answer the question.\n\n{passage}\n\n{question}"),
                 T("{passage}\n\nQ: {question}\nA:"),
                 T("Passage: {passage}\nQuestion: {question}\nAnswer:"),
                 T("Answer the question based on the following text.\n\nQuestion: {question}\n\nText: {passage}"),
                 T("Here is an article:\n\n{passage}\n\nUsing the article, answer this question: {question}"),
                 T("{passage}\n\nWhat is the answer to this question, according to the passage above? {question}"),
                 T("Read the text and answer with a short phrase from it.\n\n{passage}\n\n{question}"),
                 T("Context: {passage}\n\n{question}"),
                 T("{question}\n\nFind the answer in this passage:\n{passage}"),
                 T("{passage}\n\nWrite a question about this passage whose answer is \"{answer}\".", "{question}", True),
                 T("Read the passage and ask a question that can be answered with \"{answer}\".\n\n{passage}", "{question}", True),
             ])
    return emit(root, t, ex, group=lambda e: e["passage"])


def passage_boolq(root, F):
    by_where = {}
    for f in F:
        by_where.setdefault(f["region"], []).append(f)
    ex = []
    for f in F:
        text, s = passage(f, "boolq")
        n = f["the"]
        r = rng(f["code3"], "boolq")
        peers = [g for g in by_where[f["region"]] if g["name"] != f["name"]]
        items = []
        if "capital" in s:
            items.append(("Is %s the capital of %s?" % (f["capital"], n), "yes"))
            wrong = [g["capital"] for g in peers if g["capital"] and g["capital"] != f["capital"]]
            if wrong:
                items.append(("Is %s the capital of %s?" % (r.choice(wrong), n), "no"))
        if "borders" in s and f["borders"]:
            items.append(("Does %s share a border with %s?" % (n, r.choice(f["borders"])), "yes"))
            non = [g["name"] for g in peers if g["name"] not in f["borders"]]
            if non:
                items.append(("Does %s share a border with %s?" % (n, r.choice(non)), "no"))
            items.append(("Is %s landlocked?" % n, "yes" if f["landlocked"] else "no"))
        if "currency" in s:
            items.append(("Is the %s the currency of %s?" % (f["currencies"][0], n), "yes"))
            other = sorted({c for g in peers for c in g["currencies"] if c not in f["currencies"]})
            if other:
                items.append(("Is the %s the currency of %s?" % (r.choice(other), n), "no"))
        if "un" in s:
            items.append(("Is %s a member of the United Nations?" % n, "yes" if f["un"] else "no"))
        if "intro" in s and f["subregion"]:
            items.append(("Is %s in %s?" % (n, loc(f["subregion"])), "yes"))
            subs = sorted({g["subregion"] for g in F if g["subregion"] and g["subregion"] != f["subregion"]})
            items.append(("Is %s in %s?" % (n, loc(r.choice(subs))), "no"))
        for qs_, ans in r.sample(items, min(2, len(items))):
            ex.append({"passage": text, "question": cap(qs_), "answer": ans})
    t = Task("country_passage_boolq", "reading_comprehension", "classification", "accuracy",
             SYN + ": a passage written from one country's facts and a yes/no question about it (half true, half with a fact swapped in from a neighbouring country)",
             LIC, [
                 T("{passage}\n\nBased on the passage, answer this question: {question}\n\n{options_}"),
                 T("Read the following text and answer the question.\n\n{passage}\n\n{question}\n\n{options_}"),
                 T("{passage}\n\nQuestion: {question}\nAnswer:\n\n{options_}"),
                 T("Text: {passage}\n\nAnswer yes or no: {question}\n\n{options_}"),
                 T("Passage: {passage}\n\nAfter reading this passage, I have a question: {question} True or false?\n\n{options_}"),
                 T("{passage}\n\nCan we conclude from the text that the answer to \"{question}\" is yes?\n\n{options_}"),
                 T("Read the article and answer the question.\n\nArticle: {passage}\n\nQuestion: {question}\n\n{options_}"),
                 T("{question}\n\nUse this passage to answer: {passage}\n\n{options_}"),
                 T("Here is a short article.\n\n{passage}\n\nIs the answer to this question yes or no? {question}\n\n{options_}"),
                 T("Context: {passage}\nQuestion: {question}\n\n{options_}"),
                 T("{passage}\n\nWrite a yes-or-no question about this passage whose answer is \"{answer}\".", "{question}", True),
             ], options=["no", "yes"])
    return emit(root, t, ex, group=lambda e: e["passage"])


# ------------------------------------------------------------------ summarization (synthetic)
def summaries(root, F):
    ex = []
    for f in F:
        text, s = passage(f, "summ")
        if len(s) < 5 or not f["capital"] or not f["where"]:
            continue
        bits = ["%s is %s in %s" % (cap(f["the"]), a(f["kind"]), f["at"]), "with its capital at %s" % f["capital"]]
        extra = []
        if f["languages"]:
            extra.append("%s as official language%s" % (join(f["languages"][:3]) + (" and others" if len(f["languages"]) > 3 else ""),
                                                    "s" if len(f["languages"]) > 1 else ""))
        if len(f["currencies"]) == 1:
            extra.append("the %s as currency" % f["currencies"][0])
        summary = bits[0] + " " + bits[1] + ((", " + " and ".join(extra)) if extra else "") + "."
        ex.append({"passage": text, "answer": summary})
    t = Task("country_profile_summary", "summarization", "generation", "rouge_l",
             SYN + ": a multi-sentence profile of each country written from its facts; the target is a one-sentence summary of the main facts",
             LIC, [
                 T("{passage}\n\nWhat is a short summary of the above text?"),
                 T("Summarize this article:\n\n{passage}"),
                 T("Write a one-sentence summary of the following text: {passage}"),
                 T("{passage}\n\nSummarize the passage above in one sentence."),
                 T("Article: {passage}\n\nSummary:"),
                 T("Briefly summarize this text about a country.\n\n{passage}"),
                 T("{passage}\n\nTL;DR:"),
                 T("Give a brief summary of the following profile.\n{passage}"),
                 T("Condense this passage into a single sentence: {passage}"),
                 T("Here is a text: {passage}\n\nWhat are its main points, in one sentence?"),
                 T("Write a short article based on this summary: {answer}", "{passage}", True),
                 T("Expand the following summary into a detailed paragraph.\n\n{answer}", "{passage}", True),
             ])
    return emit(root, t, ex)


# ------------------------------------------------------------------ NLI (synthetic)
def country_nli(root, F):
    ex = []
    subs = sorted({g["subregion"] for g in F if g["subregion"]})
    caps = sorted({g["capital"] for g in F if g["capital"]})
    for f in F:
        if not (f["capital"] and f["subregion"]):
            continue
        n = f["the"]
        r = rng(f["code3"], "nli")
        cur = f["currencies"][0] if len(f["currencies"]) == 1 else ""
        prem = r.choice([
            "%s, whose capital is %s, is %s in %s." % (n, f["capital"], a(f["kind"]), loc(f["subregion"])),
            "The capital of %s, %s in %s, is %s." % (n, a(f["kind"]), loc(f["subregion"]), f["capital"]),
            "%s is the capital of %s, which lies in %s." % (f["capital"], n, loc(f["subregion"])),
        ])
        if cur:
            prem += r.choice([" The %s is used there." % cur, " Its currency is the %s." % cur])
        yes = ["%s is the capital of %s." % (f["capital"], n),
               "%s is located in %s." % (n, loc(f["subregion"])),
               "%s is in %s." % (f["capital"], loc(f["subregion"]))]
        if f["region"] not in f["subregion"]:
            pass
        else:
            yes.append("%s is in %s." % (n, loc(f["region"])))
        if cur:
            yes.append("People in %s pay with the %s." % (n, cur))
        no = ["%s is the capital of %s." % (r.choice([c for c in caps if c != f["capital"]]), n),
              "%s is located in %s." % (n, loc(r.choice([x for x in subs if x != f["subregion"]]))),
              "%s is not the capital of %s." % (f["capital"], n)]
        if f["borders"]:
            no.append("%s shares a border with %s." % (n, r.choice(f["borders"])))  # true, but not stated
        if f["kind"] == "country":
            no.append("%s is landlocked." % n if not f["landlocked"] else "%s has a coastline." % n)
        r.shuffle(yes)
        r.shuffle(no)
        for h in yes[:2]:
            ex.append({"premise": cap(prem), "hypothesis": cap(h), "answer": "yes"})
        for h in no[:2]:
            ex.append({"premise": cap(prem), "hypothesis": cap(h), "answer": "no"})
    t = Task("country_facts_rte", "nli", "classification", "accuracy",
             SYN + ": premises state a country's capital, subregion and currency; hypotheses are entailed, contradicted, or not stated (RTE-style two-way labels)",
             LIC, [
                 T("{premise}\n\nBased on the paragraph above can we conclude that \"{hypothesis}\"?\n\n{options_}"),
                 T("{premise}\n\nDoes this next sentence follow, given the preceding text?\n{hypothesis}\n\n{options_}"),
                 T("Premise: {premise}\nHypothesis: {hypothesis}\nDoes the premise entail the hypothesis?\n\n{options_}"),
                 T("Read the text and determine if the sentence is true:\n\n{premise}\n\nSentence: {hypothesis}\n\n{options_}"),
                 T("{premise}\n\nQuestion with options: Based on the paragraph above can we conclude that \"{hypothesis}\"?\n\n{options_}"),
                 T("Can we draw the following conclusion?\n{premise}\n\n{hypothesis}\n\n{options_}"),
                 T("Determine if the sentence is true based on the text below. Choose from options.\n{hypothesis}\n\n{premise}\n\n{options_}"),
                 T("Context: {premise}\n\nHypothesis: {hypothesis}\n\nIs the hypothesis supported by the context?\n\n{options_}"),
                 T("If \"{premise}\", is it true that \"{hypothesis}\"?\n\n{options_}"),
                 T("Text: {premise}\n\nClaim: {hypothesis}\n\nIs the claim supported by the text alone?\n\n{options_}"),
             ], options=["yes", "no"])
    return emit(root, t, ex, group=lambda e: e["premise"])


def build(root, src):
    F = facts(S.countries(src))
    return [capitals(root, F), facts_qa(root, F), record_to_text(root, F), name_translation(root, F),
            official_translation(root, F), passage_qa(root, F), passage_boolq(root, F),
            summaries(root, F), country_nli(root, F)]
