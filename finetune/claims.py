"""Text -> claims: the sentences (or list items) of an answer, each with its fact signature.

The guard (finetune/guard.py) compares these signatures between a rewrite and its draft, so
everything that is only form is dropped here: markdown bullets, numbering, headings, bold and
backticks, Unicode variants (NFKC, other digit scripts, Latin look-alikes from Cyrillic/Greek),
inflection (a light stemmer), spelled-out numbers ("three and a half days" is 3.5 days).
Everything that is meaning is kept as a typed token: quantities with canonical units, times,
week days, dates, versions, commands, flags, paths, URLs, e-mails, identifiers, names, the
operator cues of guard_lexicon (negation, scope, modality, conditions, relations, order) with
the word each one governs, and the context words that bind a fact to its role. Pure, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

from finetune import guard_lexicon as lx

MARKER = re.compile(r"\[(\d+)\]")
_TOKEN = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s<>()\[\]\"'`]+[^\s<>()\[\]\"'`.,;:!?])"
    r"|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<code>`[^`\n]+`)"
    r"|(?P<path>(?:~|\.{1,2})?/[\w.*-]+(?:/[\w.*-]+)*/?|\b[\w.*-]+(?:/[\w.*-]+)+/?)"
    r"|(?P<flag>(?<![\w-])--?[A-Za-z][\w-]*)"
    r"|(?P<iso>\b\d{4}-\d{2}-\d{2}\b)"
    r"|(?P<time>\b\d{1,2}:\d{2}(?:\s?[ap]\.?m\.?(?![a-z]))?|\b\d{1,2}\s?[ap]\.?m\.?(?![a-z]))"
    r"|(?P<num>\bv?\d+(?:,\d{3})+(?![\d])|\bv?\d+(?:\.\d+)*)(?P<suffix>%|[A-Za-z]+\b)?"
    r"|(?P<word>[^\W\d_][\w'’]*(?:[.-][^\W\d_][\w'’]*)*)"
    r"|(?P<punct>[,;:()!?])",
    re.I,
)
_LINE_MARKUP = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*•+]\s+|\d+[.)]\s+|\|)*")
_EMPHASIS = re.compile(r"\*\*|__|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])|~~")
_SENTENCE_END = re.compile(r"(?<=[.!?])((?:\s*\[\d+\])*)\s+(?=\S)")
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|incl|no|fig|dr|mr|ms|st|jr)|\b[A-Za-z])\.$",
                     re.I)
_PASSIVE = re.compile(r"\b(?:is|are|was|were|be|been|being|get|gets|got)\s+(?:\w+ly\s+)?"
                      r"(\w+(?:ed|en|wn|lt|ne))\s+by\b", re.I)
_HEADING = re.compile(r"^\s*(?:#{1,6}\s|\*\*[^*]+\*\*:?\s*$|[^.!?\[]{1,60}:\s*$)")
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "edly", "ied", "ies", "ures", "ure", "ed",
             "es", "ly", "s", "e")
_CLAUSE = {",", ";", ":", "(", ")", "!", "?"}
# Set phrases that are tone, not content ("don't worry" must not count as a negation).
_STYLE_PHRASES = re.compile(r"\b(?:on the other hand|at a glance|good news|don't worry|no worries|good to "
                            r"know|in short|in brief|heads up|hope this helps|feel free to|let me know|"
                            r"for example|that said)\b[:,!]?\s*", re.I)


_NON_LATIN_LETTER = re.compile(r"[^\x00-\u024f\W\d_]")
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # "٣", "３" after NFKC is already "3"


def fold(text: str) -> tuple[str, list[str]]:
    """NFKC, ASCII digits, Latin look-alikes folded; also the words that held look-alikes."""
    if text.isascii():
        return text, []
    text = unicodedata.normalize("NFKC", text)
    other_digits = _OTHER_DIGIT.search(text) is not None
    if not _NON_LATIN_LETTER.search(text) and not other_digits:
        return text.replace("’", "'"), []
    suspicious = [w for w in re.findall(r"\w+", text)
                  if re.search(r"[A-Za-z]", w) and any(ord(c) > 0x24F and c.isalpha() for c in w)]
    text = text.translate(lx.CONFUSABLES)
    if other_digits:
        text = "".join(str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c
                       for c in text)
    return text.replace("’", "'"), suspicious


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately light stemmer: inflections only, so 'stored'/'store'/'stores' meet."""
    w = word.lower().strip("'")
    if w.endswith("'s"):
        w = w[:-2]
    for _ in range(2):  # "requirements" -> "requirement" -> "requir", like "required"
        for suf in _SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= 3:
                w = w[: -len(suf)]
                break
        else:
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiousl":  # stopp(ed), plann(ed)
        w = w[:-1]
    return w


@dataclass
class Tok:
    cls: str  # content | name | fact | op | stop | style | punct | prep
    key: str  # stem for words, canonical value for facts, "CLASS:VALUE" for operators
    text: str  # surface form (folded), for reasons
    cat: str = ""  # fact category: number, time, day, date, version, command, flag, path, ...


@dataclass
class Claim:
    """One sentence or list item."""

    raw: str
    toks: list[Tok]
    markers: frozenset[int]
    line: int
    ordered: bool  # a numbered step, or a sentence that carries order cues
    heading: bool
    passive: bool
    passive_verb: str | None = None  # stem of the verb of "X was <verb> by Y"
    implied: frozenset[str] = field(default_factory=frozenset)  # cues its heading carries
    inherited: frozenset[int] = field(default_factory=frozenset)

    @property
    def words(self) -> set[str]:
        return {t.key for t in self.toks if t.cls in ("content", "name")}

    @property
    def facts(self) -> list[Tok]:
        return [t for t in self.toks if t.cls == "fact"]

    @property
    def ops(self) -> list[tuple[Tok, str | None]]:
        return [(t, _bound(self.toks, i)) for i, t in enumerate(self.toks) if t.cls == "op"]

    @property
    def items(self) -> set[str]:
        return self.words | {t.key for t in self.facts}

    def norm_text(self) -> str:
        return " ".join(t.text.lower() for t in self.toks if t.cls != "punct")


def _bound(toks: list[Tok], i: int) -> str | None:
    """The word an operator governs: the next content word in its clause, else the previous.

    Order and relation cues may govern a fact ("then `make test`", "after 24 hours"); negation,
    scope and modality govern words ("allowed from Monday" is about deploys, not Monday).
    """
    kinds = ("content", "name", "fact") if toks[i].key.split(":")[0] in ("order", "relation") \
        else ("content", "name")
    for j in range(i + 1, len(toks)):
        if toks[j].cls == "punct" and toks[j].key in _CLAUSE:
            break
        if toks[j].cls in kinds:
            return toks[j].key
    for j in range(i - 1, -1, -1):
        if toks[j].cls == "punct" and toks[j].key in _CLAUSE:
            break
        if toks[j].cls in kinds:
            return toks[j].key
    return None


def context(toks: list[Tok], i: int) -> set[str]:
    """Direction-tagged neighbours binding token i to its role, within its clause: the nearest
    word on the left, the nearest preposition on the left ("from", "after") and the nearest
    word on the right. "after 24 hours" and "after 48 hours" share "<after"; "expire" tells
    them apart."""
    out: set[str] = set()
    prep = False
    for j in range(i - 1, -1, -1):
        t = toks[j]
        if (t.cls == "punct" and t.key in _CLAUSE) or t.cls == "fact":
            break  # never reach over another fact: "in 1066 and William" binds William to nothing
        if t.cls == "prep" and t.key != "by" and not prep:
            out.add("<" + t.key)
            prep = True
        elif t.cls in ("content", "name"):
            out.add("<" + t.key)
            break
    for j in range(i + 1, len(toks)):
        t = toks[j]
        if (t.cls == "punct" and t.key in _CLAUSE) or t.cls == "fact":
            break
        if t.cls in ("content", "name", "prep") and t.key != "by":
            out.add(">" + t.key)
            break
    return out


def _num_value(text: str) -> str:
    """One spelling per value: "v2.4" -> "2.4", "1,000" -> "1000", "08" -> "8", "3.0" -> "3"."""
    t = text.lower().lstrip("v")
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", t):
        t = t.replace(",", "")
    if re.fullmatch(r"\d+\.0+", t):
        t = t.split(".")[0]
    if re.fullmatch(r"\d+", t):
        t = t.lstrip("0") or "0"
    return t


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _time(text: str) -> str:
    m = re.match(r"(\d{1,2})(?::(\d{2}))?\s?([ap])?", text.lower())
    assert m is not None
    h, mnt, ampm = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if ampm == "p" and h < 12:
        h += 12
    if ampm == "a" and h == 12:
        h = 0
    return f"{h:02d}:{mnt:02d}"


def _raw_tokens(text: str, names: AbstractSet[str], sentence_start: int) -> list[Tok]:
    toks: list[Tok] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup if m.lastgroup != "suffix" else "num"
        s = m.group(0)
        if kind == "url":
            toks.append(Tok("fact", s.lower().rstrip("/"), s, "URL"))
        elif kind == "email":
            toks.append(Tok("fact", s.lower(), s, "e-mail"))
        elif kind == "code":
            inner = s.strip("`").strip()
            toks.append(Tok("fact", " ".join(inner.lower().split()), inner, "command"))
            toks.extend(t for t in _raw_tokens(inner, names, -1) if t.cls != "fact"
                        or t.cat not in ("command",))
        elif kind == "path":
            toks.append(Tok("fact", s.lower(), s, "file path"))
        elif kind == "flag":
            toks.append(Tok("fact", s.lower(), s, "command flag"))
        elif kind == "iso":
            toks.append(Tok("fact", s, s, "date"))
        elif kind == "time":
            toks.append(Tok("fact", _time(s), s, "time"))
        elif kind == "num":
            num, suffix = m.group("num"), m.group("suffix")
            unit = lx.UNITS.get(suffix.lower(), "") if suffix else ""
            cat = "version" if (num.lower().startswith("v") or num.count(".") >= 2) else "number"
            if suffix and not unit:
                unit = suffix.lower() if suffix.lower() in ("st", "nd", "rd", "th") else ""
                if not unit:  # "3rc1", "x86": an identifier-like token
                    toks.append(Tok("fact", s.lower(), s, "identifier"))
                    continue
            toks.append(Tok("fact", f"{_num_value(num)}|{unit}", s, cat))
        elif kind == "punct":
            toks.append(Tok("punct", s, s))
        else:
            initial = sentence_start >= 0 and not any(t.cls != "punct" for t in toks)
            toks.append(_word(s, initial, names))
    return toks


_IDENT = re.compile(r"[_.]|[a-z][A-Z]")
_WEEKDAY_FORMS = {f: day for day in lx.WEEKDAYS.values() for f in (day, day + "s", day[:3])}


def _word(s: str, initial: bool, names: AbstractSet[str]) -> Tok:
    low = s.lower()
    if low in lx.OPERATORS:
        cls_, val = lx.OPERATORS[low]
        return Tok("op", f"{cls_}:{val}", s)
    if _IDENT.search(s) and low not in ("e.g", "i.e", "e.g.", "i.e."):
        return Tok("fact", low, s, "identifier")
    if low in _WEEKDAY_FORMS:
        return Tok("fact", _WEEKDAY_FORMS[low], s, "day")
    if low in lx.NUMBER_WORDS or low in lx.SCALES:
        return Tok("numword", low, s)
    if low in lx.ROLE_PREPS:
        return Tok("prep", low, s)
    if low in lx.STOP:
        return Tok("stop", low, s)
    if low in lx.STYLE:
        return Tok("style", low, s)
    st = stem(low)
    if (s[0].isupper() and not initial) or low in names:
        return Tok("name", st, s)
    return Tok("content", st, s)


def _numbers(toks: list[Tok]) -> list[Tok]:
    """Spelled-out numbers -> values; a number followed by a unit word -> one quantity."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.cls == "numword" or (t.key == "a" and i + 1 < len(toks) and toks[i + 1].key in
                                  ("half", "dozen", "hundred", "thousand", "quarter", "couple")):
            value, j, total, words = 0.0, i, 0.0, []
            if t.key == "a":
                j += 1
                words.append(t.text)
            current = 0.0
            while j < len(toks) and (toks[j].cls == "numword" or toks[j].key in ("and", "a", "an")):
                k = toks[j].key
                if k == "and" and j + 2 < len(toks) and toks[j + 1].key in ("a", "an") \
                        and toks[j + 2].key == "half":  # "three and a half"
                    words.extend([toks[j].text, toks[j + 1].text])
                    j += 2
                    continue
                if k in ("and", "a", "an"):
                    if j + 1 < len(toks) and toks[j + 1].cls == "numword":
                        words.append(toks[j].text)
                        j += 1
                        continue
                    if k in ("a", "an") and words and words[-1].lower() == "half":
                        j += 1  # "half an hour"
                        continue
                    break
                if k in lx.SCALES:
                    current = (current or 1) * lx.SCALES[k]
                    if lx.SCALES[k] >= 1000:
                        total, current = total + current, 0
                elif k in ("half", "quarter"):
                    current = current + lx.NUMBER_WORDS[k] if current else lx.NUMBER_WORDS[k]
                else:
                    current += lx.NUMBER_WORDS[k]
                words.append(toks[j].text)
                j += 1
            value = total + current
            unit = ""
            if j < len(toks) and toks[j].text.lower() in lx.UNITS:
                unit = lx.UNITS[toks[j].text.lower()]
                words.append(toks[j].text)
                j += 1
            lone_one = len(words) == 1 and words[0].lower() == "one" and not unit
            if lone_one or not words:
                out.append(Tok("stop", t.key, t.text))
                i += 1
                continue
            out.append(Tok("fact", f"{_fmt(value)}|{unit}", " ".join(words), "number"))
            i = j
            continue
        if t.key in ("a", "an") and i + 1 < len(toks) and lx.UNITS.get(toks[i + 1].text.lower()) in (
                "second", "minute", "hour", "day", "week", "month", "year"):
            # "up to an hour" is one hour: "two hours" must not pass as the same quantity.
            unit = lx.UNITS[toks[i + 1].text.lower()]
            out.append(Tok("fact", f"1|{unit}", f"{t.text} {toks[i + 1].text}", "number"))
            i += 2
            continue
        if t.cls == "fact" and t.cat == "number" and t.key.endswith("|") and "." in t.key and (
                i + 1 >= len(toks) or toks[i + 1].text.lower() not in lx.UNITS):
            out.append(Tok("fact", t.key, t.text, "version"))  # "3.11", "5.2 or later"
            i += 1
            continue
        if t.cls == "fact" and t.cat in ("number", "version") and t.key.endswith("|") \
                and i + 1 < len(toks) and toks[i + 1].text.lower() in lx.UNITS:
            unit = lx.UNITS[toks[i + 1].text.lower()]
            out.append(Tok("fact", t.key + unit, f"{t.text} {toks[i + 1].text}", t.cat))
            i += 2
            continue
        out.append(t)
        i += 1
    return out


def _months(toks: list[Tok]) -> list[Tok]:
    """'May 3' / '3 May' -> a date; a capitalised month alone -> a date fact too."""
    out: list[Tok] = []
    for t in toks:
        low = t.text.lower()
        if t.cls in ("name", "content", "op") and t.text[:1].isupper() and low[:3] in lx.MONTHS \
                and lx.MONTHS[low[:3]].startswith(low) and (len(low) >= 3):
            out.append(Tok("fact", lx.MONTHS[low[:3]], t.text, "date"))
        else:
            out.append(t)
    return out


_MULTI_BY_FIRST: dict[str, list[list[str]]] = {}
for _cue in lx.MULTI:
    _MULTI_BY_FIRST.setdefault(_cue.split()[0], []).append(_cue.split())


def _multi(toks: list[Tok]) -> list[Tok]:
    """Join multi-word operator cues ('at least', 'have to', 'no longer') into one token."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        for cue in _MULTI_BY_FIRST.get(toks[i].text.lower(), ()):
            n = len(cue)
            if [t.text.lower() for t in toks[i:i + n]] == cue:
                cls_, val = lx.OPERATORS[" ".join(cue)]
                out.append(Tok("op", f"{cls_}:{val}", " ".join(t.text for t in toks[i:i + n])))
                i += n
                break
        else:
            out.append(toks[i])
            i += 1
    return out


def claims(text: str, names: AbstractSet[str] | None = None) -> list[Claim]:
    """The claims of ``text`` (already folded) in order; headings and list items included."""
    names = names or set()
    result: list[Claim] = []
    in_code = False
    implied: frozenset[str] = frozenset()
    for line_no, line in enumerate(text.splitlines()):
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            line = f"`{line.strip()}`" if line.strip() else ""
        numbered = bool(re.match(r"^\s*\d+[.)]\s", line))
        heading = bool(_HEADING.match(line))
        body = _EMPHASIS.sub("", _LINE_MARKUP.sub("", line)).replace("|", " ")
        body = _STYLE_PHRASES.sub(" ", body)
        if not body.strip():
            continue
        start = 0
        pieces = []
        for m in _SENTENCE_END.finditer(body):
            head = body[start:m.start()]
            if _ABBREV.search(head):
                continue
            pieces.append(body[start:m.start()] + m.group(1))
            start = m.end()
        pieces.append(body[start:])
        for piece in pieces:
            markers = frozenset(int(n) for n in MARKER.findall(piece))
            plain = MARKER.sub(" ", piece).strip()
            if not plain and not markers:
                continue
            lead = len(plain) - len(plain.lstrip("\"'(*_>[ "))
            toks = _multi(_months(_numbers(_raw_tokens(plain, names, lead))))
            ordered = numbered or any(t.cls == "op" and t.key.startswith("order:") for t in toks)
            if not plain and markers and result:  # a marker alone on a line: the previous claim's
                result[-1].markers = result[-1].markers | markers
                continue
            pm = _PASSIVE.search(plain)
            claim = Claim(raw=piece.strip(), toks=toks, markers=markers, line=line_no,
                          ordered=ordered, heading=heading and not markers, passive=pm is not None,
                          passive_verb=stem(pm.group(1)) if pm else None)
            if plain.rstrip().endswith("?") and len(pieces) > 1:
                # "Error rate above 5%? Page the SRE team." is the question form of an "if".
                claim.implied = frozenset({"condition:IF"})
            if claim.heading:
                # "## Requirements" over "- Python 3.11": the items carry the heading's "required".
                implied = frozenset(f"{c}:{v}" for t in toks if t.cls in ("content", "op")
                                    for c, v in [_OP_STEMS.get(stem(t.text), ("", ""))] if c)
            else:
                claim.implied = claim.implied | implied
            result.append(claim)
    _inherit(result)
    return result


_OP_STEMS = {stem(w): cv for w, cv in lx.OPERATORS.items() if " " not in w and cv[0] == "modality"}


def _inherit(cs: list[Claim]) -> None:
    """A sentence without a marker is covered by the next marker in its paragraph."""
    pending: list[Claim] = []
    for c in cs:
        if pending and c.line != pending[-1].line and c.line - pending[-1].line > 1:
            pending = []
        if c.markers:
            for p in pending:
                p.inherited = c.markers
            pending = []
        else:
            pending.append(c)


@lru_cache(maxsize=512)
def name_words(text: str) -> frozenset[str]:
    """Stems of words written capitalised mid-sentence somewhere in ``text`` (names, products)."""
    found = set()
    for m in re.finditer(r"(?<=[a-z,;] )([A-Z][a-z][\w'-]*)", text):
        w = m.group(1).lower()
        w = w[:-2] if w.endswith("'s") else w
        if w not in lx.STOP and w not in lx.OPERATORS and w not in lx.STYLE:
            found.add(w)
    return frozenset(found)


_VOCAB_WORD = re.compile(r"[^\W\d_][\w']*(?:[.-][^\W\d_][\w']*)*")


@lru_cache(maxsize=512)
def vocabulary(text: str) -> frozenset[str]:
    """Every word (and hyphen part) of ``text``, stemmed: what the sources allow a rewrite to say.

    Cached: the same passages come back answer after answer."""
    words = set(_VOCAB_WORD.findall(text.lower()))
    for w in [w for w in words if "-" in w]:
        words.update(w.split("-"))
    return frozenset(words | {stem(w) for w in words})
