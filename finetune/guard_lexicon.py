"""Word lists the claim-level guard reads (finetune/claims.py, finetune/guard.py).

Kept apart from the logic so a reviewer can see, in one place, which words the guard treats as
meaning-bearing operators (negation, scope, modality, conditions, relations, order), which are
plain grammar, and which a rewrite may add freely (STYLE). Values are canonical cue classes:
"need" and "must" both mean MUST, so rewording between them is style, "must" -> "optional" is not.
"""

from __future__ import annotations


def _words(text: str) -> set[str]:
    return set(text.split())


# Operators: word (or joined multi-word cue) -> (class, value).
_OPS: dict[str, tuple[str, str]] = {}


def _add(cls: str, value: str, words: str) -> None:
    for w in words.split():
        _OPS[w.replace("_", " ")] = (cls, value)


_add("polarity", "NOT", "not n't never no none nothing nobody nowhere neither nor cannot without "
     "no_longer")
_add("scope", "ONLY", "only solely exclusively just")
_add("scope", "ALL", "all every each always everything everyone everybody entire whole")
_add("scope", "ANY", "any anything anyone anybody whatever whichever")
_add("scope", "OR", "or either and/or")  # "Alice or Bob" is not "Alice and Bob"
_add("scope", "SOME", "some sometimes several few many most certain part partly usually often "
     "occasionally")
_add("modality", "MUST", "must required require requires requiring mandatory need needs needed "
     "have_to has_to had_to need_to needs_to shall necessary obligatory compulsory")
_add("modality", "SHOULD", "should recommended recommend recommends ought advisable")
_add("modality", "MAY", "may can could might optional optionally allowed permitted possible able")
_add("condition", "IF", "if when whenever provided_that as_long_as in_case")
_add("condition", "UNLESS", "unless except except_when")
_add("relation", "BEFORE", "before earlier prior until till beforehand")
_add("relation", "AFTER", "after later afterwards following since")
_add("relation", "GT", "above over exceed exceeds exceeding exceeded greater higher more larger "
     "bigger longer faster at_least minimum beyond more_than increase increases increased")
_add("relation", "LT", "below under less fewer lower smaller shorter slower at_most maximum up_to "
     "less_than fewer_than decrease decreases decreased")
_add("order", "FIRST", "first firstly initially start_by")
_add("order", "THEN", "then next second secondly afterward subsequently")
_add("order", "LAST", "finally last lastly third")

OPERATORS = _OPS
# Multi-word cues are joined into one token before lookup (longest first).
MULTI = sorted((k for k in _OPS if " " in k), key=lambda k: -len(k.split()))
_add("polarity", "NOT", "don't doesn't didn't isn't aren't wasn't weren't won't can't couldn't "
     "shouldn't mustn't haven't hasn't wouldn't")

# Grammar words: neither facts nor content. Pronouns are here on purpose: "you" -> "your team".
STOP = _words("""
a an the this that these those there their theirs it its it's they them we us our ours you your
yours i me my he she him her his hers is are was were be been being am do does did done doing
have has had having will would to of in on at by for from with as and but so than too very
into onto out up down off about against between through during per via what which who whom whose
where why how whatever also both one's s t re ve ll d m o y let lets let's get gets got
such same other another own again further once here there's what's that's who's e.g i.e etc vs cf
""")

# Words a rewrite may add without a source: greetings, signposts, politeness, summary labels.
STYLE = _words("""
please note notes here hi hello hey thanks thank sure ok okay yes summary short answer answers
tldr quick quickly overview details detail tip tips happy help helps hope glad good great know
simply basically briefly essentially actually really well now steps step key point points main
question questions shortly follows like see info information important remember mind again ask
asking asked otherwise however anyway recap takeaway takeaways
""")

# Generic verbs a restyling swaps freely ("start with X" -> "first, run X"); replacing one of them
# is not a change of role. Replacing a draft word BY a non-generic word still is.
LIGHT_VERBS = {"run", "use", "start", "set", "get", "make", "take", "go", "try", "open", "put",
               "give", "do", "call", "check", "type", "enter", "choose", "pick", "apply"}

DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "each", "every", "your", "our",
               "their", "its", "his", "her", "any", "all", "some", "no"}

# Words that bind a fact to its role ("from Monday", "to Thursday", "after 24 hours").
ROLE_PREPS = {"from", "to", "until", "till", "after", "before", "since", "between", "by",
              "within", "per", "every", "above", "below", "over", "under", "at", "on", "for", "in",
              "against", "of", "with", "into", "toward", "towards"}

PASSIVE_AUX = {"is", "are", "was", "were", "be", "been", "being", "gets", "get", "got"}

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "dozen": 12, "twice": 2, "thrice": 3, "half": 0.5, "quarter": 0.25,
    "a_couple_of": 2,
}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}

# Unit spellings -> one canonical unit, so "6h", "6 hrs" and "six hours" are one quantity.
UNITS: dict[str, str] = {}
for _canon, _forms in {
    "second": "s sec secs second seconds", "millisecond": "ms millisecond milliseconds",
    "minute": "min mins minute minutes", "hour": "h hr hrs hour hours", "day": "d day days",
    "week": "w wk wks week weeks", "month": "mo month months", "year": "y yr yrs year years",
    "byte": "b byte bytes", "kb": "k kb kib", "mb": "mb mib megabyte megabytes",
    "gb": "gb gib gigabyte gigabytes", "tb": "tb tib", "percent": "% percent pct",
    "times": "x times", "core": "core cores", "cpu": "cpu cpus", "token": "token tokens",
    "chunk": "chunk chunks", "page": "page pages", "request": "request requests",
    "user": "user users", "replica": "replica replicas", "character": "character characters chars",
    "line": "line lines", "item": "item items", "result": "result results",
}.items():
    for _f in _forms.split():
        UNITS[_f] = _canon

WEEKDAYS = {d[:3]: d for d in ("monday", "tuesday", "wednesday", "thursday", "friday",
                               "saturday", "sunday")}
MONTHS = {m[:3]: m for m in ("january", "february", "march", "april", "may", "june", "july",
                             "august", "september", "october", "november", "december")}

# Latin look-alikes (Cyrillic, Greek, other) folded before comparing; their presence is flagged.
CONFUSABLES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ı": "i",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "У": "Y",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "α": "a", "ν": "v", "ρ": "p",
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
})
