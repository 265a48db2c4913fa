"""Tasks from npm sentiment (UCI labelled sentences), bsdgames quiz files, Debian
fortunes, and synthetic coreference."""
import re

from common import T, Task, emit, rng, cap, a, sentence
import sources as S

UCI_PKG = "npm sentiment@5.0.2 (test/fixtures/%s.json): UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015), %s part"
UCI_LIC = "CC-BY-4.0 (UCI Sentiment Labelled Sentences; attribution: Kotzias, Denil, de Freitas, Smyth 2015); npm package MIT"
BSD_PKG = "Debian bsdgames 2.17-29+b1 (usr/share/games/bsdgames/quiz/%s)"
BSD_LIC = "BSD-3-Clause (bsd-games, The Regents of the University of California)"
FORT_PKG = "Debian fortunes 1:1.99.1-7.3 (usr/share/games/fortunes/%s)"
FORT_LIC = "BSD-3-Clause (fortune-mod, The Regents of the University of California)"


# ------------------------------------------------------------------ sentiment
def sentiment(root, src, name, thing, part):
    ex = [{"sentence": s, "answer": "positive" if y == 1 else "negative"} for s, y in S.sentiment(src, name)]
    tt = [
        T("{sentence}\n\nIs this <thing> review positive or negative?\n\n{options_}"),
        T("Review of a <thing>: \"{sentence}\"\n\nWhat is the sentiment of this review?\n\n{options_}"),
        T("What is the sentiment of the following <thing> review sentence?\n{sentence}\n\n{options_}"),
        T("{sentence}\n\nHow would you describe the sentiment of this review?\n\n{options_}"),
        T("Decide whether the following sentence from a <thing> review expresses a positive or a negative opinion.\n\n{sentence}\n\n{options_}"),
        T("Sentence: {sentence}\n\nDoes the writer feel positively or negatively about the <thing>?\n\n{options_}"),
        T("Here is a sentence from an online <thing> review: {sentence}\nWas the reviewer pleased or displeased?\n\n{options_}"),
        T("{sentence}\n\nIs the sentiment of this sentence positive or negative?\n\n{options_}"),
        T("Classify the sentiment of this <thing> review: {sentence}\n\n{options_}"),
        T("{sentence}\n\nWhat is the tone of this review?\n\n{options_}"),
        T("Write a {answer} sentence for a <thing> review.", "{sentence}", True),
        T("Generate a short {answer} review of a <thing>.", "{sentence}", True),
    ]
    for t in tt:
        t.input = t.input.replace("<thing>", thing)
    t = Task("uci_sentiment_" + name, "sentiment", "classification", "accuracy",
             UCI_PKG % (name, part), UCI_LIC, tt, options=["negative", "positive"])
    return emit(root, t, ex, max_val=200)


# ------------------------------------------------------------------ bsdgames closed-book QA
def ordinal(n):
    n = int(n)
    suf = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return "%d%s" % (n, suf)


def trivia(root, src):
    ex = []

    def add(q, ans, topic):
        ans = ans.strip()
        if ans and ans.lower() not in ("gok", "none"):
            ex.append({"topic": topic, "question": q, "answer": ans})
    for row in S.quiz(src, "pres"):
        name, term, vice, succ = row[0][0], row[1][0], row[2], row[3][0]
        name = re.sub(r" \((1st|2nd) term\)", "", name)
        succ = re.sub(r" \((1st|2nd) term\)", "", succ)
        if term.endswith("-"):
            continue
        span = term.replace("-", " to ")
        add("Who was President of the United States %s %s?" % ("in" if "-" not in term else "from", span),
            name, "US presidents")
        add("Who succeeded %s as President of the United States?" % name, succ, "US presidents")
        if len(vice) == 1 and not vice[0].startswith("None"):
            add("Who was vice president under %s?" % name, vice[0], "US presidents")
    for sym, num, _w, el in S.quiz(src, "elements"):
        sym, num, el = sym[0], num[0], el[0]
        add("What is the chemical symbol for %s?" % el.lower(), sym, "chemical elements")
        add("Which chemical element has the symbol %s?" % sym, el, "chemical elements")
        add("What is the atomic number of %s?" % el.lower(), num, "chemical elements")
        add("Which element has atomic number %s?" % num, el, "chemical elements")
    for st, capital, abbr, flower in S.quiz(src, "state"):
        add("What is the capital of the US state of %s?" % st[0], capital[0], "US states")
        add("What is the two-letter postal abbreviation of %s?" % st[0], abbr[0], "US states")
        add("What is the state flower of %s?" % st[0], flower[0], "US states")
    for prov, capital in S.quiz(src, "province"):
        add("What is the capital of the Canadian province of %s?" % prov[0], capital[0], "Canadian provinces")
    for ind, coll in S.quiz(src, "collectives"):
        for i in ind:
            add("What is the collective noun for a group of %s?" % i, coll[0], "collective nouns")
    for baby, adults in S.quiz(src, "babies"):
        for ad in adults:
            add("What is a young %s called?" % ad, baby[0], "young animals")
    for male, female in S.quiz(src, "sexes"):
        if len(male[0]) > 2 and male[0] not in ("effeminate", "manly", "Oedipus complex"):
            add("What is the female counterpart of a %s?" % male[0], female[0], "male and female terms")
    for row in S.quiz(src, "sov"):
        add("Who succeeded %s as monarch of England?" % row[0][0], row[2][0], "English monarchs")
        if re.fullmatch(r"\d+", row[1][0]):
            add("In which century did %s of England begin to reign?" % row[0][0], ordinal(row[1][0]) + " century", "English monarchs")
    for inca, succ in S.quiz(src, "inca"):
        add("Who succeeded %s as ruler of the Inca?" % inca[0].title(), succ[0].title(), "Inca rulers")
    for year, nxt in S.quiz(src, "chinese"):
        add("In the Chinese zodiac, which animal comes after the %s?" % year[0], nxt[0], "Chinese zodiac")
    for victim, killer in S.quiz(src, "murders"):
        add("According to the well-known story, who killed %s?" % victim[0], killer[0], "famous killings")
    for realm, capital in S.quiz(src, "midearth"):
        add("In Tolkien's Middle-earth, what is the chief city of %s?" % realm[0], capital[0], "Middle-earth")
    for flower, meaning in S.quiz(src, "flowers"):
        add("In the Victorian language of flowers, what does %s mean?" % flower[0].lower(), meaning[0], "language of flowers")
    for wheels, name in S.quiz(src, "locomotive"):
        add("What is the name of the %s steam locomotive wheel arrangement in Whyte notation?" % wheels[0], name[0], "locomotives")
    t = Task("bsd_trivia_qa", "closed_book_qa", "generation", "exact_match",
             (BSD_PKG % "{pres,elements,state,province,collectives,babies,sexes,sov,inca,chinese,murders,midearth,flowers,locomotive}").replace("{", "(").replace("}", ")")
             + ": each quiz record turned into one or more questions; the first listed answer is the target",
             BSD_LIC, [
                 T("{question}"),
                 T("Q: {question}\nA:"),
                 T("Answer this trivia question about {topic}: {question}"),
                 T("Question: {question}\nAnswer:"),
                 T("Here is a quiz question on the topic of {topic}.\n{question}"),
                 T("{question}\n\nWhat is the answer?"),
                 T("Answer the following question. {question}"),
                 T("Trivia time! {question}"),
                 T("Quiz ({topic}): {question}"),
                 T("Please answer: {question}"),
                 T("Write a trivia question about {topic} whose answer is \"{answer}\".", "{question}", True),
                 T("The answer is \"{answer}\". What is the question?", "{question}", True),
             ])
    return emit(root, t, ex, key_fields=["question"])


def latin(root, src):
    ex = [{"latin": la[0], "answer": en[0]} for la, en in S.quiz(src, "latin")]
    t = Task("latin_to_english", "translation", "generation", "exact_match",
             BSD_PKG % "latin" + ": Latin verb forms with their English glosses (first listed gloss)", BSD_LIC, [
                 T("Translate the Latin word \"{latin}\" into English."),
                 T("What does the Latin \"{latin}\" mean in English?"),
                 T("Latin: {latin}\nEnglish:"),
                 T("Give the English translation of this Latin verb form: {latin}"),
                 T("How would you translate \"{latin}\" from Latin?"),
                 T("Translate from Latin to English: {latin}"),
                 T("\"{latin}\" is a Latin verb form. What is it in English?"),
                 T("In English, the Latin \"{latin}\" is"),
                 T("Q: What is the English for the Latin \"{latin}\"?\nA:"),
                 T("Render the Latin \"{latin}\" in English."),
                 T("Translate \"{answer}\" into Latin.", "{latin}", True),
                 T("English: {answer}\nLatin:", "{latin}", True),
             ])
    return emit(root, t, ex, key_fields=["latin"])


def bsd_records(root, src):
    ex = []
    r = rng("bsd_record_to_text")
    for sym, num, w, el in S.quiz(src, "elements"):
        rec = "element[%s], symbol[%s], atomic_number[%s], atomic_weight[%s]" % (el[0], sym[0], num[0], w[0])
        txt = r.choice([
            "%s, whose chemical symbol is %s, has atomic number %s and an atomic weight of %s." % (el[0], sym[0], num[0], w[0]),
            "The element %s (symbol %s) has atomic number %s; its atomic weight is %s." % (el[0].lower(), sym[0], num[0], w[0]),
        ])
        ex.append({"record": rec, "answer": txt})
    for row in S.quiz(src, "pres"):
        name, term, vice, succ = row[0][0], row[1][0], row[2], row[3][0]
        if term.endswith("-") or not succ:
            continue
        name = re.sub(r" \((1st|2nd) term\)", "", name)
        succ = re.sub(r" \((1st|2nd) term\)", "", succ)
        vp = vice[0] if len(vice) == 1 and not vice[0].startswith("None") else ""
        rec = "president[%s], term[%s]" % (name, term) + (", vice_president[%s]" % vp if vp else "") + ", successor[%s]" % succ
        when = "in %s" % term if "-" not in term else "from %s to %s" % tuple(term.split("-"))
        txt = "%s was President of the United States %s" % (name, when)
        txt += (", with %s as vice president" % vp if vp else "") + ". "
        txt += r.choice(["He was succeeded by %s." % succ, "His successor was %s." % succ])
        ex.append({"record": rec, "answer": txt})
    for st, capital, abbr, flower in S.quiz(src, "state"):
        fl = flower[0] if flower[0] != "gok" else ""
        rec = "state[%s], capital[%s], postal_code[%s]" % (st[0], capital[0], abbr[0]) + (", state_flower[%s]" % fl if fl else "")
        txt = r.choice(["The capital of %s is %s, and its postal abbreviation is %s." % (st[0], capital[0], abbr[0]),
                        "%s (postal code %s) has its capital at %s." % (st[0], abbr[0], capital[0])])
        if fl:
            txt += " Its state flower is the %s." % fl
        ex.append({"record": rec, "answer": txt})
    t = Task("bsd_record_to_text", "struct_to_text", "generation", "rouge_l",
             BSD_PKG % "(elements,pres,state)" + ": quiz records shown as attribute lists (input) and rendered as English sentences (target)",
             BSD_LIC, [
                 T("Data: {record}\n\nWrite a sentence that describes this data."),
                 T("{record}\n\nTurn this record into a fluent sentence."),
                 T("Here is a record from a reference table: {record}\nDescribe it in English."),
                 T("Attributes: {record}\nText:"),
                 T("Write one or two sentences that express all of the following facts: {record}"),
                 T("Generate a description from this structured data.\n\n{record}"),
                 T("Facts: {record}\n\nWrite them up as a short sentence."),
                 T("Convert the following table row into natural language: {record}"),
                 T("Using the data below, write a factual sentence.\n{record}"),
                 T("Describe the following in words: {record}"),
                 T("Sentence: {answer}\n\nExtract the facts in this sentence as a record.", "{record}", True),
                 T("What structured data does this sentence contain? {answer}", "{record}", True),
             ])
    return emit(root, t, ex, key_fields=["record"])


def poetry(root, src):
    rows = []
    for row in S.quiz(src, "poetry"):
        rows.append((row[0][0], row[1][0], row[2][0], row[3][0]))
    for row in S.quiz(src, "bard"):
        work = re.sub(r" [IVX]+-[ivx]+$", "", row[2][0])
        rows.append((row[0][0], row[1][0], work, "William Shakespeare"))
    rows = [x for x in rows if x[0] and x[1]]
    r = rng("poetry_next_line")
    nexts = sorted({x[1] for x in rows})
    ex = []
    for line, nxt, work, author in rows:
        d = r.sample([x for x in nexts if x != nxt], 3)
        opts = d + [nxt]
        r.shuffle(opts)
        ex.append({"line": line, "work": work, "author": author, "options": opts, "answer": nxt})
    t = Task("poetry_next_line", "completion", "classification", "accuracy",
             BSD_PKG % "(poetry,bard)" + ": famous lines of English poetry and Shakespeare with the line that follows; distractors are following lines from other works",
             BSD_LIC, [
                 T("Which line comes next?\n\n{line}\n\n{options_}"),
                 T("This is a line from \"{work}\" by {author}:\n{line}\nWhat is the next line?\n\n{options_}"),
                 T("Complete the verse: {line} ...\n\n{options_}"),
                 T("{line}\n\nHow does the poem continue?\n\n{options_}"),
                 T("Here is a famous line by {author}: \"{line}\". Choose the line that follows it.\n\n{options_}"),
                 T("What follows \"{line}\" in {work}?\n\n{options_}"),
                 T("Pick the correct continuation of this line of verse.\n{line}\n\n{options_}"),
                 T("Quote: {line}\nNext line:\n\n{options_}"),
                 T("Finish the quotation from {work}: \"{line}\"\n\n{options_}"),
                 T("A line of poetry: {line}\nWhich of these lines comes right after it?\n\n{options_}"),
                 T("Which line comes just before \"{answer}\" in {work}?", "{line}", True),
                 T("Write the line of {work} that follows \"{line}\".", "{answer}", True),
             ])
    return emit(root, t, ex, key_fields=["line"])


# ------------------------------------------------------------------ fortunes
FORTUNE_FILES = ["art", "education", "humorists", "law", "love", "people", "politics", "science", "wisdom", "work"]


def quotes(root, src):
    items = []
    for fname in FORTUNE_FILES:
        for body, author in S.fortunes(src, fname):
            if not author or len(author) > 60:
                continue
            lines = body.split("\n")
            if any(l.startswith((" ", "\t")) for l in lines):
                continue
            text = re.sub(r"\s+", " ", body).strip()
            if not (60 <= len(text) <= 260) or re.search(r"[A-Za-z]+:\s", text[:20]) or '"' in text[:3]:
                continue
            cut = _split_point(text)
            if cut is None:
                continue
            items.append((fname, text[:cut].strip(), text[cut:].strip(), author))
    items.sort()
    r = rng("fortune_quote_completion")
    endings = sorted({x[2] for x in items})
    ex = []
    for fname, head, tail, author in items:
        pool = [e for e in endings if e != tail and abs(len(e) - len(tail)) < 40]
        if len(pool) < 3:
            continue
        opts = r.sample(pool, 3) + [tail]
        r.shuffle(opts)
        ex.append({"context": head, "author": author, "options": opts, "answer": tail})
    t = Task("fortune_quote_completion", "completion", "classification", "accuracy",
             FORT_PKG % ("(%s)" % ",".join(FORTUNE_FILES)) + ": attributed one-paragraph quotations cut at a sentence or clause boundary; the three distractor endings come from other quotations of similar length",
             FORT_LIC, [
                 T("Complete the quotation by {author}: \"{context} ...\"\n\n{options_}"),
                 T("{context} ...\n\nHow does this quote end?\n\n{options_}"),
                 T("Here is the beginning of a saying: {context}\nChoose the most likely ending.\n\n{options_}"),
                 T("{author} once said: \"{context}\" What comes next?\n\n{options_}"),
                 T("Finish the sentence: {context}\n\n{options_}"),
                 T("Which ending completes this quote correctly?\n\n{context} ...\n\n{options_}"),
                 T("Quote (by {author}): {context} ...\nEnding:\n\n{options_}"),
                 T("What is the most natural continuation of the following text?\n{context}\n\n{options_}"),
                 T("Pick the best way to complete this famous quotation.\n\"{context} ...\"\n\n{options_}"),
                 T("Read the start of the quotation and select its ending.\n{context}\n\n{options_}"),
                 T("Write the beginning of a quotation by {author} that ends with: \"{answer}\"", "{context}", True),
                 T("Who might have said \"{context} {answer}\"?", "{author}", True),
             ])
    return emit(root, t, ex, key_fields=["context"], max_train=600, max_val=120)


def _split_point(text):
    n = len(text)
    best = None
    for m in re.finditer(r"[.!?;:,] ", text):
        pos = m.end()
        if pos < 25 or n - pos < 15:
            continue
        score = abs(pos - n * 0.55) - (20 if text[m.start()] in ".!?;" else 0)
        if best is None or score < best[0]:
            best = (score, pos)
    return best[1] if best else None


# ------------------------------------------------------------------ coreference (synthetic)
PAIRS = [("king", "queen"), ("waiter", "waitress"), ("actor", "actress"), ("father", "mother"),
         ("brother", "sister"), ("uncle", "aunt"), ("nephew", "niece"), ("husband", "wife"),
         ("son", "daughter"), ("grandfather", "grandmother"), ("boy", "girl"), ("man", "woman"),
         ("host", "hostess"), ("emperor", "empress"), ("landlord", "landlady"), ("groom", "bride"),
         ("count", "countess"), ("baron", "baroness"), ("heir", "heiress"), ("policeman", "policewoman"),
         ("businessman", "businesswoman"), ("headmaster", "headmistress"), ("schoolboy", "schoolgirl"),
         ("widower", "widow"), ("fiance", "fiancee")]
GFRAMES = [
    "The {x} called the {y} because {p} needed advice.",
    "The {x} waved at the {y}, but {p} did not notice.",
    "The {x} met the {y} after {p} returned from the market.",
    "The {x} wrote to the {y} because {p} had news to share.",
    "The {x} and the {y} were talking until {p} had to leave.",
    "The {x} listened to the {y} while {p} explained the plan.",
    "After the {x} greeted the {y}, {p} sat down by the window.",
    "The {x} asked the {y} whether {p} could help with the harvest.",
    "When the {x} visited the {y}, {p} brought a basket of apples.",
    "The {x} lent the {y} a book, and {p} promised to return it soon.",
    "The {x} sat next to the {y} because {p} wanted to see the stage.",
    "The {x} followed the {y} into the hall, where {p} found a seat.",
]


def gender_coref(root, src):
    pairs = list(PAIRS)
    for male, female in S.quiz(src, "sexes"):
        m, f = male[0], female[0]
        if m in ("abbot", "alumnus", "ambassador", "curator", "duke", "gentleman", "lad", "marquis", "monk", "prince"):
            pairs.append((m, f))
    pairs = sorted(set(pairs))
    r = rng("gender_pronoun_coref")
    ex = []
    for i, (m, _) in enumerate(pairs):
        for j, (_, f) in enumerate(pairs):
            if i == j:
                continue
            for _ in range(2):
                frame = r.choice(GFRAMES)
                first_male = r.random() < 0.5
                x, y = (m, f) if first_male else (f, m)
                target_male = r.random() < 0.5
                p = "he" if target_male else "she"
                ref = m if target_male else f
                sent = frame.replace("{x}", x).replace("{y}", y).replace("{p}", p)
                resolved = frame.replace("{x}", x).replace("{y}", y).replace("{p}", "the " + ref)
                ex.append({"sentence": sent, "pronoun": p, "options": ["the " + x, "the " + y],
                           "answer": "the " + ref, "resolved": resolved})
    t = Task("gender_pronoun_coref", "coreference", "classification", "accuracy",
             "synthetic: generated by scripts/data from hand-written sentence frames and gendered noun pairs (ten pairs from "
             + BSD_PKG % "sexes" + "); the pronoun agrees in gender with exactly one candidate",
             "CC0-1.0 (generated frames); bsdgames word pairs BSD-3-Clause", _coref_templates())
    return emit(root, t, ex, key_fields=["sentence"], max_train=800, max_val=150)


MALE = ["Adam", "Ben", "Carl", "Daniel", "Edward", "Frank", "George", "Henry", "Ian", "Jack", "Kevin", "Louis",
        "Mark", "Nathan", "Oscar", "Peter", "Robert", "Samuel", "Thomas", "Victor", "William", "Arthur", "Brian", "David"]
FEMALE = ["Alice", "Beth", "Clara", "Diana", "Emma", "Fiona", "Grace", "Helen", "Irene", "Julia", "Karen", "Laura",
          "Maria", "Nora", "Olivia", "Paula", "Rachel", "Sarah", "Tina", "Vera", "Wendy", "Anna", "Bella", "Chloe"]
# (frame, referent of the pronoun: 0 = first name, 1 = second name); each pair differs in one phrase
WFRAMES = [
    ("{A} gave {B} a book because {p} had finished reading it.", 0), ("{A} gave {B} a book because {p} wanted to read it.", 1),
    ("{A} lent {B} some money because {p} was short of cash.", 1), ("{A} lent {B} some money because {p} had plenty to spare.", 0),
    ("{A} beat {B} at chess because {p} played better.", 0), ("{A} beat {B} at chess because {p} made a careless mistake.", 1),
    ("{A} apologized to {B} because {p} had been rude.", 0), ("{A} apologized to {B} because {p} had been offended.", 1),
    ("{A} waited for {B} because {p} was late.", 1), ("{A} waited for {B} because {p} was early.", 0),
    ("{A} taught {B} to swim because {p} was a strong swimmer.", 0), ("{A} taught {B} to swim because {p} could not swim.", 1),
    ("{A} asked {B} for directions because {p} was lost.", 0), ("{A} asked {B} for directions because {p} knew the city well.", 1),
    ("{A} paid {B} because {p} had fixed the roof.", 1), ("{A} paid {B} because {p} owed money for the repairs.", 0),
    ("{A} visited {B} in the hospital because {p} was ill.", 1), ("{A} visited {B} in the hospital because {p} was worried.", 0),
    ("{A} yelled at {B} because {p} was furious.", 0), ("{A} yelled at {B} because {p} had broken the vase.", 1),
    ("{A} hired {B} because {p} needed an assistant.", 0), ("{A} hired {B} because {p} was highly qualified.", 1),
    ("{A} followed {B} because {p} knew the way.", 1), ("{A} followed {B} because {p} did not know the way.", 0),
    ("{A} interviewed {B} because {p} was writing an article.", 0), ("{A} interviewed {B} because {p} had just won an award.", 1),
    ("{A} forgave {B} because {p} had apologized.", 1), ("{A} forgave {B} because {p} was kind-hearted.", 0),
    ("{A} shouted to {B} because {p} was far away.", 1), ("{A} shouted to {B} because {p} needed help.", 0),
    ("{A} praised {B} because {p} had done excellent work.", 1), ("{A} praised {B} because {p} was impressed by the work.", 0),
    ("{A} could not lift {B} because {p} was so weak.", 0), ("{A} could not lift {B} because {p} was so heavy.", 1),
    ("{A} sent {B} a postcard because {p} was travelling abroad.", 0), ("{A} sent {B} a postcard because {p} collects postcards.", 1),
    ("{A} gave {B} a ride because {p} had a car.", 0), ("{A} gave {B} a ride because {p} had missed the bus.", 1),
    ("{A} told {B} a joke because {p} looked sad.", 1), ("{A} told {B} a joke because {p} wanted to cheer someone up.", 0),
    ("{A} thanked {B} because {p} had helped with the move.", 1), ("{A} thanked {B} because {p} was grateful for the help.", 0),
    ("{A} woke {B} up because {p} was snoring loudly.", 1), ("{A} woke {B} up because {p} needed a ride to the airport.", 0),
]


def winograd_names(root):
    r = rng("winograd_names_coref")
    ex = []
    for fi, (frame, ref) in enumerate(WFRAMES):
        for names, p in ((MALE, "he"), (FEMALE, "she")):
            for _ in range(12):
                A, B = r.sample(names, 2)
                sent = frame.replace("{A}", A).replace("{B}", B).replace("{p}", p)
                who = (A, B)[ref]
                resolved = frame.replace("{A}", A).replace("{B}", B).replace("{p}", who)
                ex.append({"frame": str(fi // 2), "sentence": sent, "pronoun": p, "options": [A, B],
                           "answer": who, "resolved": resolved})
    t = Task("winograd_names_coref", "coreference", "classification", "accuracy",
             "synthetic: generated by scripts/data from 22 hand-written Winograd-style sentence pairs (a one-phrase change flips the referent) filled with same-gender first names",
             "CC0-1.0 (generated)", _coref_templates())
    # whole frame pairs go to one split, so validation sentences use unseen frames
    train_val = emit(root, t, ex, key_fields=["sentence"], group=lambda e: e["frame"], max_train=800, max_val=150)
    return train_val


def _coref_templates():
    return [
        T("{sentence}\n\nWho does \"{pronoun}\" refer to in this sentence?\n\n{options_}"),
        T("{sentence}\n\nIn the sentence above, who is \"{pronoun}\"?\n\n{options_}"),
        T("Read the sentence and resolve the pronoun.\n\n{sentence}\n\nWho is \"{pronoun}\"?\n\n{options_}"),
        T("Sentence: {sentence}\nQuestion: Who does the pronoun \"{pronoun}\" stand for?\n\n{options_}"),
        T("In \"{sentence}\", the word \"{pronoun}\" refers to whom?\n\n{options_}"),
        T("Coreference question. {sentence}\nWhich person does \"{pronoun}\" point to?\n\n{options_}"),
        T("{sentence}\n\nWho is being referred to by \"{pronoun}\"?\n\n{options_}"),
        T("Here is a sentence: {sentence}\nTo whom does \"{pronoun}\" refer?\n\n{options_}"),
        T("Identify the antecedent of \"{pronoun}\" in the following sentence.\n{sentence}\n\n{options_}"),
        T("{sentence}\n\nWho does the pronoun refer to?\n\n{options_}"),
        T("Rewrite the sentence, replacing the pronoun \"{pronoun}\" with the person it refers to: {sentence}", "{resolved}", True),
    ]


def build(root, src):
    return [sentiment(root, src, "imdb", "movie", "IMDb"), sentiment(root, src, "yelp", "restaurant", "Yelp"),
            sentiment(root, src, "amazon", "product", "Amazon"), trivia(root, src), latin(root, src),
            bsd_records(root, src), poetry(root, src), quotes(root, src), gender_coref(root, src),
            winograd_names(root)]
