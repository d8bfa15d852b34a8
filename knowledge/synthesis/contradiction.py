"""Does a candidate sentence say the opposite of what the question asks about?

The commonest unanswerable question is a near copy of a sentence with one word turned round:
"Which moon of Saturn is the *smallest*?" against "Titan is the *largest* moon of Saturn",
"Which deploys are *not* reviewed?" against "Every deploy is reviewed by the on-call engineer",
"What makes the check *dependent* on the region?" against "... makes the check *independent* of
the region". Word overlap, the embedding and the small reader all see a near-perfect match;
what is wrong is one word. These checks look for exactly that word: a question word the sentence
lacks whose opposite it has (an antonym, the same word with or without a negating prefix,
another number in the same place), or a negated question where the sentence negates nothing.
A paraphrase of the same polarity is not a contradiction: "unknown" and "not known", "not open"
and "closed", "ten minutes" and "10 minutes" agree.

Only wh-questions are checked. "Do deploys start before 14:00?" is answered by "Deploys start
after 14:00.": for a yes/no question the opposite statement is the answer. Measured on the
written reader data (``datasets/answer-reader``, not used to write these rules), a check fires
on 0.6% of the sentences that do answer their question.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_WH = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "why", "how"})
_AUX = frozenset({"is", "are", "was", "were", "do", "does", "did", "can", "could", "should",
                  "will", "would", "has", "have", "had", "may", "might", "must", "shall"})
_NEGATORS = frozenset({"not", "no", "never", "nor"})
# A text can negate without a negator: "waterless", "unrecognized", "only when", "free".
_IMPLICIT = frozenset({
    "without", "lack", "lacks", "lacked", "lacking", "absent", "missing", "fail", "fails",
    "failed", "failure", "refuse", "refused", "refuses", "prevent", "prevented", "prevents",
    "only", "neither", "none", "nothing", "nobody", "except", "unless", "until", "instead",
    "rather", "free", "unable", "impossible", "unknown", "denied", "rejected", "stopped",
    "disappeared", "ceased"})
# "If the file is not there, ...": a condition, not a claim the text would have to negate.
_CONDITIONS = frozenset({"if", "when", "unless", "whenever", "once"})
# "un-known" and "not known" say the same; "unknown" against "known" does not.
_PREFIXES = ("non-", "non", "un", "in", "im", "il", "ir", "dis")
# A stem this short is too often another word ("index" is not "in" + "dex").
_MIN_STEM = 5
# Set phrases that use an opposite without meaning it: "at least three", "more or less".
_FIXED = frozenset({("at", "least"), ("at", "most"), ("at", "first"), ("at", "last"),
                    ("no", "longer"), ("no", "less"), ("no", "more"), ("or", "less"),
                    ("or", "more"), ("at", "all")})
# Number words as digits ("ten minutes" and "10 minutes" agree); ordinals apart, so that "the
# 1967 festival" is not compared with "the first festival".
_CARDINALS = {w: str(i) for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
     "eleven", "twelve"])} | {"twenty": "20", "thirty": "30", "forty": "40", "fifty": "50",
                              "hundred": "100", "thousand": "1000"}
_ORDINALS = frozenset({"first", "second", "third", "fourth", "fifth", "sixth", "seventh",
                       "eighth", "ninth", "tenth"})
# "How long does the brownout last?": the verb, not the opposite of "first".
_VERB_BEFORE = frozenset({"does", "do", "did", "will", "would", "to", "can", "could", "should",
                          "it", "they", "may", "might"})

# Common English opposites (both directions are added below), written as a general list, not
# from one domain; those a negating prefix makes ("formal", "informal") are the prefix check's.
# Converses are left out on purpose: "Who bought the rights?" is answered by "Jean sold the
# rights to Enrique", "who lost" by who won against whom, "how long before" by "after".
_PAIRS = """
first:last earliest:latest early:late
largest:smallest larger:smaller large:small biggest:smallest bigger:smaller big:small
highest:lowest higher:lower high:low upper:lower greatest:least greater:lesser
most:least more:less more:fewer increase:decrease increased:decreased increases:decreases
increasing:decreasing rise:fall rose:fell
longest:shortest longer:shorter long:short oldest:youngest older:younger old:young
oldest:newest older:newer maximum:minimum max:min best:worst better:worse
fastest:slowest faster:slower fast:slow strongest:weakest stronger:weaker strong:weak
hardest:easiest harder:easier hard:easy heaviest:lightest heavier:lighter
richest:poorest richer:poorer rich:poor cheapest:dearest cheaper:dearer
north:south east:west northern:southern eastern:western northeast:southwest
northwest:southeast inside:outside internal:external interior:exterior inner:outer
start:end started:ended starts:ends begin:end began:ended beginning:end
open:closed opened:closed open:shut opening:closing
allowed:forbidden allow:forbid permitted:prohibited
accepted:rejected accept:reject accepts:rejects approved:denied approve:deny
add:remove added:removed adding:removing include:exclude included:excluded
includes:excludes enable:disable enabled:disabled
singular:plural success:failure succeeded:failed pass:fail passed:failed
true:false positive:negative
majority:minority private:public always:never everyone:nobody
everything:nothing something:nothing presence:absence
above:below top:bottom ancient:modern
male:female men:women man:woman father:mother son:daughter king:queen
push:pull enter:exit arrival:departure arrive:depart arrived:departed offensive:defensive
born:died birth:death alive:dead friend:enemy allies:enemies
wet:dry hot:cold warm:cool warmer:cooler warmest:coolest lighter:darker
rural:urban local:foreign domestic:foreign national:international physical:mental
abstract:concrete common:rare frequent:rare frequently:rarely often:rarely
simple:complex simpler:complex easy:difficult broad:narrow
wide:narrow wider:narrower widest:narrowest thick:thin deep:shallow full:empty
support:oppose supported:opposed supporters:opponents pro:anti
read:write reads:writes reading:writing
encrypt:decrypt encrypted:decrypted encode:decode encoded:decoded lock:unlock locked:unlocked
online:offline visible:hidden synchronous:asynchronous primary:secondary
upstream:downstream inbound:outbound incoming:outgoing ingress:egress
"""
_ANTONYMS: dict[str, frozenset[str]] = {}
for _a, _b in re.findall(r"([\w-]+):([\w-]+)", _PAIRS):
    _ANTONYMS[_a] = _ANTONYMS.get(_a, frozenset()) | {_b}
    _ANTONYMS[_b] = _ANTONYMS.get(_b, frozenset()) | {_a}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("n't", " not").replace("cannot", "can not"))


def _negated(words: list[str], at: int) -> bool:
    """A negator within the two words before ``at`` ("not known", "not yet known")."""
    return any(w in _NEGATORS for w in words[max(0, at - 2):at])


def _number(word: str) -> str | None:
    """The kind and value of a number word ("cardinal:10", "ordinal:first"), or None."""
    if word.isdigit() or word in _CARDINALS:
        return f"cardinal:{_CARDINALS.get(word, word)}"
    return f"ordinal:{word}" if word in _ORDINALS else None


def _question_negates(words: list[str]) -> bool:
    """The question negates its claim: "may or may not", "whether or not" and a negated
    condition ("when no sort is given") do not."""
    return any(w in _NEGATORS and "or" not in words[max(0, i - 2):i]
               and not _CONDITIONS.intersection(words[max(0, i - 4):i])
               for i, w in enumerate(words))


def _text_negates(words: list[str]) -> bool:
    return any(w in _NEGATORS or w in _IMPLICIT or w.startswith("non")
               or (w.startswith("un") and len(w) >= 6) or (w.endswith("less") and len(w) >= 7)
               for w in words)


def _forms(word: str) -> set[str]:
    """The word and its plain inflections ("output": outputs, outputted, outputting)."""
    out = {word, word + "s", word + "es", word + "ed", word + "d", word + "ing"}
    if word.endswith("s"):
        out.add(word[:-1])
    return out


def wh_question(question: str) -> bool:
    words = _words(question)
    return bool(words) and words[0] not in _AUX and bool(_WH.intersection(words))


def contradiction(question: str, text: str) -> str | None:
    """How ``text`` says the opposite of ``question`` ("antonym: smallest / largest"), or None.
    Only for wh-questions; see the module docstring."""
    if not wh_question(question):
        return None
    q, t = _words(question), _words(text)
    # number words as digits: "ten minutes" is in "10 minutes"
    t_numbers = {_number(w) for w in t} - {None}
    agreed = False  # the question's negation is said by the text's antonym
    where: dict[str, list[int]] = {}
    for i, w in enumerate(t):
        where.setdefault(w, []).append(i)
    for i, w in enumerate(q):
        # "how long", "how old": the asked-for quantity, not a claim ("a short while" answers)
        if len(w) < 2 or not _forms(w).isdisjoint(where) \
                or (i and (q[i - 1] == "how" or (q[i - 1], w) in _FIXED)):
            continue
        if w == "last" and (i == len(q) - 1 or _VERB_BEFORE.intersection(q[max(0, i - 4):i])):
            continue
        opposites = [o for o in sorted(_ANTONYMS.get(w, ())) if o not in q and any(
            not (j and (t[j - 1], o) in _FIXED) for j in where.get(o, ()))]
        if opposites and _negated(q, i):
            agreed = True  # "not open" and "closed" agree
        elif opposites:
            return f"antonym: {w} / {opposites[0]}"
        for p in _PREFIXES:
            stem = w[len(p):]
            # the question's "unknown" against the text's "known", unless the text says "not known"
            if w.startswith(p) and len(stem) >= _MIN_STEM and stem in where \
                    and not any(_negated(t, j) for j in where[stem]):
                return f"prefix: {w} / {stem}"
            # the question's "dependent" against the text's "independent", unless "not dependent"
            if len(w) >= _MIN_STEM and p + w in where and not _negated(q, i):
                return f"prefix: {w} / {p + w}"
        kind = _number(w)
        if kind is not None and kind not in t_numbers:
            before, after = (q[i - 1] if i else None), (q[i + 1] if i + 1 < len(q) else None)
            for j, x in enumerate(t):
                other = _number(x)
                if other is None or other.split(":")[0] != kind.split(":")[0]:
                    continue
                # another number in the same place: "three numbers" / "two numbers",
                # "in 1066" / "in 1071"
                if (after is not None and j + 1 < len(t) and t[j + 1] == after) or \
                        (before is not None and j and t[j - 1] == before and len(w) == len(x) == 4):
                    return f"number: {w} / {x}"
    if _question_negates(q) and not _text_negates(t) and not agreed:
        return "negation: the question negates, the text does not"
    return None
