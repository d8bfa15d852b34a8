"""The rule that keeps the style model from changing facts: a rewrite may only reshape the draft.

:func:`check` splits draft and rewrite into claims (sentences, list items; finetune/claims.py),
aligns every rewrite claim with the draft claim(s) it restates (several when sentences were
merged, one shared when a sentence was split), and compares their fact signatures: quantities
with units, times, days, dates, versions, commands, flags, paths, URLs, names, the operator
cues (negation, scope, modality, conditions, relations, order) with the word each governs, the
role each fact is bound to (swaps), words replaced by other words of the sources (role and
environment swaps), words in neither the draft nor its sources, and the citation markers of each
claim. A claim with no draft claim behind it is rejected. Every rejection is a :class:`Reason`
naming the kind of change and the fact; ``Verdict.reason`` is its one-line text ("kind: ...").
Pure and fast (no model): it runs on every styled answer.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from finetune import guard_lexicon as lx
from finetune.claims import MARKER, Claim, Tok, claims, context, fold, name_words, stem, vocabulary

# A rewrite this many times longer than its draft (in claims' words) is not a restyling.
MAX_GROWTH = 3.0

KINDS = ("empty", "markup", "length", "look-alike", "citation", "unsupported", "number", "time",
         "day", "date", "version", "command", "command flag", "file path", "URL", "e-mail",
         "identifier", "name", "new word", "role", "polarity", "scope", "modality", "condition",
         "relation", "order")


@dataclass(frozen=True)
class Reason:
    """One changed fact: its kind (one of KINDS), what changed, and the rewrite claim."""

    kind: str
    detail: str
    claim: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str | None = None
    reasons: tuple[Reason, ...] = field(default=())

    @property
    def kind(self) -> str | None:
        return self.reasons[0].kind if self.reasons else None


def _reject(*reasons: Reason) -> Verdict:
    return Verdict(False, str(reasons[0]), tuple(reasons))


class _Rejected(Exception):
    def __init__(self, reasons: list[Reason]) -> None:
        self.reasons = reasons


def check(rewrite: str, *, draft: str, sources: Iterable[str] = ()) -> Verdict:
    """Accept ``rewrite`` only if every claim restates the draft without changing a fact.

    ``sources`` are the passages the draft cites, in marker order (``[1]`` is ``sources[0]``).
    """
    sources = list(sources)
    if not rewrite or not rewrite.strip():
        return _reject(Reason("empty", "the rewrite is empty"))
    text, odd = fold(rewrite)
    dtext, dodd = fold(draft)
    if new_odd := sorted(set(odd) - set(dodd)):
        return _reject(Reason("look-alike", f"'{new_odd[0]}' mixes Latin with look-alike letters"))
    folded_sources = [fold(s)[0] for s in sources]
    names = name_words(dtext).union(*(name_words(s) for s in folded_sources))
    r_claims = claims(text, names)
    d_claims = claims(dtext, names)
    if not any(c.toks for c in r_claims):
        return _reject(Reason("markup", "the rewrite has no words, only markup or markers"))
    r_size = sum(len(c.toks) for c in r_claims)
    d_size = sum(len(c.toks) for c in d_claims)
    if r_size > MAX_GROWTH * d_size + 20:
        return _reject(Reason("length", f"{r_size} words for a {d_size}-word draft"))
    d_markers = set(MARKER.findall(dtext))
    r_markers = set(MARKER.findall(text))
    if dropped := sorted(d_markers - r_markers, key=int):
        return _reject(Reason("citation", "drops citation " + ", ".join(f"[{n}]" for n in dropped)))
    if invented := sorted(r_markers - d_markers, key=int):
        return _reject(Reason("citation", "invents citation " + ", ".join(f"[{n}]" for n in invented)))
    ctx = _Context(d_claims, dtext, folded_sources)
    previous: Claim | None = None
    for claim in r_claims:
        try:
            group = ctx.check_claim(claim)
        except _Rejected as exc:
            return _reject(*exc.reasons)
        if group:
            head = group[0]
            if previous is not None and previous.ordered and head.ordered \
                    and d_claims.index(head) < d_claims.index(previous) and previous is not head:
                return _reject(Reason("order", f"step '{_short(head.raw)}' now comes after "
                                               f"'{_short(previous.raw)}'", claim.raw))
            previous = head
    return Verdict(True)


def _short(text: str, n: int = 50) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


_STYLE = lx.STYLE | {stem(w) for w in lx.STYLE}


class _Context:
    """The draft's claims and what its sources allow, shared by the checks of every claim."""

    def __init__(self, d_claims: list[Claim], dtext: str, sources: list[str]) -> None:
        self.d = d_claims
        self.allowed = vocabulary(dtext).union(_STYLE, *(vocabulary(s) for s in sources))
        self.sources = sources
        self.source_vocab = [vocabulary(s) for s in sources]
        self.source_lower = [s.lower() for s in sources]

    # --- alignment ---
    def align(self, claim: Claim) -> list[Claim]:
        items = claim.items
        if not items:
            return []
        scored = sorted(((len(items & d.items), -i, d) for i, d in enumerate(self.d)),
                        key=lambda x: (x[0], x[1]), reverse=True)
        if not scored or scored[0][0] == 0:
            return self._align_loose(claim)
        group = [scored[0][2]]
        uncovered = items - group[0].items
        while uncovered:
            best = max((d for d in self.d if d not in group),
                       key=lambda d: len(uncovered & d.items), default=None)
            if best is None:
                break
            gain = len(uncovered & best.items)
            if gain == 0 or (gain < 2 and gain < 0.5 * len(best.items)):
                break
            group.append(best)
            uncovered -= best.items
        return sorted(group, key=self.d.index)

    def _align_loose(self, claim: Claim) -> list[Claim]:
        """No shared content word: match on style words and fact kinds ("Help is at <URL>"),
        so a claim whose only fact changed is reported as that change, not as unsupported."""
        def loose(c: Claim) -> set[str]:
            return {t.key for t in c.toks if t.cls in ("style", "content", "name")} | {
                "cat:" + t.cat for t in c.facts}
        mine = loose(claim)
        if not claim.facts:
            return []
        best = max(self.d, key=lambda d: len(mine & loose(d)), default=None)
        if best is None or len(mine & loose(best)) < 2 or not {f.cat for f in claim.facts} & {
                f.cat for f in best.facts}:
            return []
        return [best]

    def check_claim(self, claim: Claim) -> list[Claim]:
        """The draft claims ``claim`` restates; raises _Rejected with every change found."""
        meaningful = [t for t in claim.toks if t.cls in ("content", "name", "fact", "op")]
        if not meaningful:
            if claim.markers:
                raise _Rejected([Reason("citation", f"citation {_fmt(claim.markers)} on a line "
                                                    "that states nothing", claim.raw)])
            return []  # a greeting, a label, a bare heading
        cited = self._cited_text(claim)
        if claim.heading and not claim.markers and not claim.facts:
            # A label ("## Requirements", "**Who may run admin commands**") states no claim of its
            # own: it may use words of the draft and its sources, and no cue the draft lacks
            # ("## Never deploy on Fridays" adds a negation).
            group = self.align(claim)
            added = [r for r in self._operators(claim, group) if r.detail.startswith("adds")]
            if found := [*self._vocab(claim), *added]:
                raise _Rejected(found)
            return []
        group = self.align(claim)
        if not group:
            raise _Rejected([Reason("unsupported", f"'{_short(claim.raw)}' restates no sentence of "
                                                   "the draft", claim.raw), *self._vocab(claim)])
        found = [*self._facts(claim, group, cited), *self._swaps(claim, group),
                 *self._operators(claim, group), *self._vocab(claim),
                 *self._replaced(claim, group, cited), *self._order_within(claim, group),
                 *self._citations(claim, group)]
        if found:
            raise _Rejected(found)
        return group

    def _cited_text(self, claim: Claim) -> tuple[set[str], str]:
        vocab: set[str] = set()
        lower = []
        for n in claim.markers:
            if 1 <= n <= len(self.sources):
                vocab |= self.source_vocab[n - 1]
                lower.append(self.source_lower[n - 1])
        return vocab, "\n".join(lower)

    # --- facts ---
    def _facts(self, claim: Claim, group: list[Claim], cited: tuple[set[str], str]) -> list[Reason]:
        g_facts = [f for d in group for f in d.facts]
        g_text = " ".join(d.norm_text() for d in group) + " " + " ".join(d.raw.lower() for d in group)
        r_keys = {t.key for t in claim.facts}
        out = []
        # Commands last: a changed flag or path inside `...` is reported as that, not "command".
        for f in sorted(claim.facts, key=lambda t: t.cat == "command"):
            if _has_fact(f, g_facts, g_text):
                continue
            same = [g for g in g_facts if g.cat == f.cat or {g.cat, f.cat} <= {"number", "version"}]
            if all(g.key in r_keys for g in same) and _in_text(f, cited[1]):
                continue  # an addition the passage this claim cites supports
            was = f" (the draft says {', '.join(repr(g.text) for g in same[:3])})" if same else ""
            verb = "changed to" if same else "adds"
            out.append(Reason(f.cat, f"{verb} '{f.text}'{was}", claim.raw))
        return out

    def _swaps(self, claim: Claim, group: list[Claim]) -> list[Reason]:
        """Facts or roles that traded places ('from Monday to Thursday' reversed, A/B swapped)."""
        out = []
        same_voice = [d for d in group if d.passive == claim.passive]
        for d in group:
            if d.passive != claim.passive:
                out.extend(_voice_roles(claim, d))
        r_anchor = _anchors(claim)
        if len(r_anchor) < 2 or not same_voice:
            return out
        d_anchor: dict[str, set[str]] = {}
        for d in same_voice:
            for key, ctx in _anchors(d).items():
                d_anchor.setdefault(key, set()).update(ctx)
        for key, ctx in r_anchor.items():
            if key not in d_anchor or not ctx:
                continue
            own = len(ctx & d_anchor[key])
            for other, octx in d_anchor.items():
                # Bound more closely to another fact's place in the draft than to its own.
                if other != key and other in r_anchor and len(ctx & octx) > own:
                    out.append(Reason(_anchor_kind(claim, key),
                                      f"'{_surface(claim, key)}' and '{_surface(claim, other)}' "
                                      "swapped places", claim.raw))
                    return out
        return out

    # --- words ---
    def _vocab(self, claim: Claim) -> list[Reason]:
        for t in claim.toks:
            if t.cls in ("content", "name") and t.key not in self.allowed \
                    and t.text.lower() not in self.allowed:
                kind = "name" if t.cls == "name" and t.text[:1].isupper() else "new word"
                return [Reason(kind, f"adds '{t.text}', in neither the draft nor its sources",
                               claim.raw)]
        return []

    def _replaced(self, claim: Claim, group: list[Claim], cited: tuple[set[str], str]
                  ) -> list[Reason]:
        """Draft words replaced by other words of the sources ('finance partner' for 'on-call lead')."""
        g_seq = [t for d in group for t in d.toks if t.cls in ("content", "name")]
        r_seq = [t for t in claim.toks if t.cls in ("content", "name")]
        g_set = {t.key for t in g_seq}
        g_keys = [t.key for t in g_seq]
        r_keys = [t.key for t in r_seq]
        # A name of the sources in place of a name of the draft, wherever it moved ("Bob's pull
        # requests are reviewed by Carol" for "Alice reviews Bob's pull requests").
        new_names = [t for t in r_seq if t.cls == "name" and t.key not in g_set]
        lost_names = [t for t in g_seq if t.cls == "name" and t.key not in set(r_keys)]
        if new_names and lost_names:
            return [Reason("role", f"'{new_names[0].text}' in place of '{lost_names[0].text}'",
                           claim.raw)]
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, g_keys, r_keys,
                                                          autojunk=False).get_opcodes():
            if op not in ("replace", "insert"):
                continue
            imported = [t for t in r_seq[j1:j2] if t.key not in g_set and t.key in self.allowed]
            if not imported:
                continue
            r_left = Counter(r_keys)
            r_left.subtract(g_keys)  # words the rewrite has fewer of than the draft
            gone = [t for t in g_seq[i1:i2] if r_left[t.key] < 0]
            if op == "replace" and gone and not all(t.text.lower() in lx.LIGHT_VERBS
                                                    for t in imported):
                return [Reason("role", f"'{' '.join(t.text for t in imported)}' in place of "
                                       f"'{' '.join(t.text for t in gone)}'", claim.raw)]
            unsupported = [t for t in imported if t.key not in cited[0]
                           and t.text.lower() not in cited[0]]
            if unsupported:
                return [Reason("new word", f"adds '{unsupported[0].text}', not in the draft "
                                           "sentence it restates nor the passage it cites",
                               claim.raw)]
        return []

    def _order_within(self, claim: Claim, group: list[Claim]) -> list[Reason]:
        """Steps merged into one sentence must keep their order ('first A, then B')."""
        if len(group) < 2 or not all(d.ordered for d in group):
            return []
        positions = []
        for d in group:
            own = d.items - set().union(*(o.items for o in group if o is not d))
            idx = [i for i, t in enumerate(claim.toks)
                   if t.cls in ("content", "name", "fact") and t.key in own]
            if idx:
                positions.append((min(idx), d))
        ranks = [self.d.index(d) for _, d in sorted(positions, key=lambda p: p[0])]
        if ranks != sorted(ranks):
            return [Reason("order", "the steps it merges are in a different order than in the "
                                    "draft", claim.raw)]
        return []

    # --- operators ---
    def _operators(self, claim: Claim, group: list[Claim]) -> list[Reason]:
        r_ops = claim.ops
        g_ops = [o for d in group for o in d.ops]
        r_count = Counter(t.key for t, _ in r_ops)
        g_count = Counter(t.key for t, _ in g_ops)
        r_words = claim.words | {f.key for f in claim.facts}
        shared = r_words & {w for d in group for w in d.words | {f.key for f in d.facts}}
        out = []
        # "A source with 0 chunks was never ingested" -> "If a source has 0 chunks, it was never
        # ingested": an "if" may restructure ONE draft sentence that has no condition of its own.
        may_add_if = len(group) == 1 and not any(t.key.startswith("condition:") for t, _ in g_ops)
        for key, n in r_count.items():
            cls_ = key.split(":")[0]
            if key == "condition:IF" and may_add_if and "condition:UNLESS" not in r_count:
                continue
            if n > g_count.get(key, 0) and cls_ != "order":  # "first"/"then" may be added
                cue = next(t.text for t, _ in r_ops if t.key == key)
                out.append(Reason(cls_, f"adds '{cue}'{_was(g_ops, cls_)}", claim.raw))
        # Dropped: the draft's cue governs a word the rewrite kept, and the rewrite has fewer such
        # cues both around its shared words and overall (so rewording that moves a cue is fine).
        relevant = Counter(t.key for t, w in g_ops if w is not None and w in r_words)
        r_relevant = Counter(t.key for t, w in r_ops if w is not None and w in shared)
        prohibition = "polarity:NOT" in r_count  # "never store" restates "must not be stored"
        for key, n in relevant.items():
            if key == "modality:MUST" and prohibition and "polarity:NOT" in g_count:
                continue
            implied = key in claim.implied
            if n > r_relevant.get(key, 0) + implied and g_count[key] > r_count.get(key, 0) + implied:
                cls_ = key.split(":")[0]
                cue, word = next((t.text, w) for t, w in g_ops if t.key == key and w in r_words)
                out.append(Reason(cls_, f"drops '{cue}' (the draft: '{cue} … {word}')", claim.raw))
        for key in set(r_count) & set(g_count):
            cls_ = key.split(":")[0]
            if cls_ in ("modality", "scope"):  # rewording moves these without changing meaning
                continue
            rb = {w for t, w in r_ops if t.key == key and w in shared}
            gb = {w for t, w in g_ops if t.key == key and w in shared}
            if rb and gb and not rb & gb:
                cue = next(t.text for t, _ in r_ops if t.key == key)
                out.append(Reason(cls_, f"'{cue}' moved from '{sorted(gb)[0]}' to "
                                        f"'{sorted(rb)[0]}'", claim.raw))
        return out

    # --- citations ---
    def _citations(self, claim: Claim, group: list[Claim]) -> list[Reason]:
        allowed = frozenset().union(*(d.markers | d.inherited for d in group))
        if stray := sorted(claim.markers - allowed):
            return [Reason("citation", f"citation {_fmt(frozenset(stray))} moved to a sentence "
                                       "its passage does not cover", claim.raw)]
        # A sentence may lean on the marker that ends its paragraph ("A. B [1]."), as in drafts.
        covering = claim.markers or claim.inherited
        if allowed and not covering & allowed:
            return [Reason("citation", f"'{_short(claim.raw)}' lost its citation "
                                       f"{_fmt(allowed)}", claim.raw)]
        return []


def _fmt(markers: frozenset[int]) -> str:
    return "".join(f"[{n}]" for n in sorted(markers))


def _was(g_ops: list[tuple[Tok, str | None]], cls_: str) -> str:
    cues = [t.text for t, _ in g_ops if t.key.startswith(cls_ + ":")]
    return f" (the draft says '{cues[0]}')" if cues else ""


def _has_fact(f: Tok, g_facts: list[Tok], g_text: str) -> bool:
    if f.cat in ("number", "version"):
        value, _, unit = f.key.partition("|")
        for g in g_facts:
            gv, _, gu = g.key.partition("|")
            # The rewrite may drop a unit ("30" for "30 days"), never add or change one.
            if g.cat in ("number", "version") and gv == value and (gu == unit or not unit):
                return True
        return False
    if any(g.key == f.key for g in g_facts):
        return True
    return f.cat in ("command", "file path", "identifier", "command flag", "URL", "e-mail") \
        and _in_text(f, g_text)


def _in_text(f: Tok, text: str) -> bool:
    if not text:
        return False
    if f.cat in ("number", "version"):
        value, _, unit = f.key.partition("|")
        return re.search(rf"(?<![\d.]){re.escape(value)}(?!\d|\.\d)", text) is not None and (
            not unit or unit[:3] in text)
    return f.key in text or f.text.lower() in text


def _anchors(c: Claim) -> dict[str, set[str]]:
    """Facts and names that occur once in the claim, each with the context binding its role."""
    counts = Counter(t.key for t in c.toks if t.cls in ("fact", "name"))
    out: dict[str, set[str]] = {}
    toks = c.toks
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.cls == "name":  # "Alexius Komnenos" is one anchor, bound by what is around it
            j = i
            while j + 1 < len(toks) and toks[j + 1].cls == "name":
                j += 1
            key = " ".join(x.key for x in toks[i:j + 1])
            if all(counts[x.key] == 1 for x in toks[i:j + 1]):
                out[key] = {x for x in context(toks, i) if x[0] == "<"} | {
                    x for x in context(toks, j) if x[0] == ">"}
            i = j + 1
            continue
        if t.cls == "fact" and counts[t.key] == 1:
            out[t.key] = context(toks, i)
        i += 1
    # Nouns after a determiner are role-bearing too ("the on-call lead", "the finance partner").
    for i, t in enumerate(c.toks[:-1]):
        if t.cls == "stop" and t.key in lx.DETERMINERS:
            nxt = c.toks[i + 1]
            if nxt.cls == "content" and nxt.key not in out and counts.get(nxt.key, 0) == 0:
                out["np:" + nxt.key] = context(c.toks, i + 1)
    return out


def _anchor_kind(c: Claim, key: str) -> str:
    for t in c.toks:
        if t.key == key and t.cls == "fact":
            return t.cat
    return "role"  # names and noun phrases: who does what


def _surface(c: Claim, key: str) -> str:
    k = key[3:] if key.startswith("np:") else key
    for i, t in enumerate(c.toks):
        if t.key == k:
            return t.text
        if t.key == k.split(" ")[0] and " " in k:
            return " ".join(x.text for x in c.toks[i:i + len(k.split(" "))])
    return k


def _voice_roles(active: Claim, passive: Claim) -> list[Reason]:
    """Agent and patient across voices: 'Y stopped X' restates 'X was stopped by Y', not 'X
    stopped Y'. Compared around the passive claim's verb, found in both claims."""
    if active.passive:
        active, passive = passive, active
    verb = passive.passive_verb
    if verb is None:
        return []
    a_roles = _roles_around(active.toks, verb, passive=False)
    p_roles = _roles_around(passive.toks, verb, passive=True)
    for key, role in a_roles.items():
        if key in p_roles and p_roles[key] != role:
            return [Reason("role", f"'{key}' became the {role} of '{verb}…'", active.raw)]
    return []


def _roles_around(toks: list[Tok], verb: str, passive: bool) -> dict[str, str]:
    """Names next to ``verb``: before it (clause start) and right after it (or after 'by')."""
    at = next((i for i, t in enumerate(toks) if t.key == verb), None)
    if at is None:
        return {}
    before_role, after_role = ("patient", "agent") if passive else ("agent", "patient")
    roles: dict[str, str] = {}
    for j in range(at - 1, -1, -1):
        t = toks[j]
        if t.cls == "punct" or t.cls == "op" or (t.cls == "prep" and t.key != "of"):
            break
        if t.cls == "name":
            roles[t.key] = before_role
    j = at + 1
    if passive and j < len(toks) and toks[j].key == "by":
        j += 1
    for t in toks[j:j + 7]:
        if t.cls in ("punct", "op", "prep") or (t.cls == "stop" and t.key not in lx.DETERMINERS):
            break
        if t.cls == "name":
            roles[t.key] = after_role
    return roles
