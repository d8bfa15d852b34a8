"""The guard on its adversarial corpus (tests/unit/guard_corpus.py) and on bad input.

Every fact-changing rewrite must be rejected with a reason naming the change; style-only
rewrites must mostly pass (>= 90%, the issue's bar), and the failures are listed when not.
"""

from __future__ import annotations

from collections import Counter

import pytest
from guard_corpus import DRAFTS, FACT_CHANGES, STYLE_ONLY

from finetune.guard import KINDS, Verdict, check


def _check(draft_id: str, rewrite: str) -> Verdict:
    d = DRAFTS[draft_id]
    return check(rewrite, draft=d["draft"], sources=d["sources"])


def test_corpus_is_big_and_varied_enough() -> None:
    kinds = Counter(kind for _, kind, _ in FACT_CHANGES)
    assert len(FACT_CHANGES) >= 80 and len(kinds) >= 12, kinds
    assert len(STYLE_ONLY) >= 40
    assert len({d for d, _, _ in FACT_CHANGES}) >= 12
    assert set(kinds) <= set(KINDS)


@pytest.mark.parametrize("draft_id", sorted(DRAFTS))
def test_a_draft_restated_unchanged_is_accepted(draft_id: str) -> None:
    verdict = _check(draft_id, DRAFTS[draft_id]["draft"])
    assert verdict.ok, verdict.reason


@pytest.mark.parametrize(("draft_id", "kind", "rewrite"), FACT_CHANGES,
                         ids=[f"{i:03d}-{d}-{k}" for i, (d, k, _) in enumerate(FACT_CHANGES)])
def test_fact_changing_rewrite_is_rejected_naming_the_change(draft_id: str, kind: str,
                                                             rewrite: str) -> None:
    verdict = _check(draft_id, rewrite)
    assert not verdict.ok, "accepted a rewrite that changes a fact"
    assert verdict.reason and verdict.reasons
    assert verdict.reason == str(verdict.reasons[0])
    named = [r.kind for r in verdict.reasons]
    assert kind in named, f"expected a {kind!r} reason, got {verdict.reasons}"


def test_style_only_rewrites_are_accepted_at_least_90_percent() -> None:
    failures = []
    for draft_id, what, rewrite in STYLE_ONLY:
        verdict = _check(draft_id, rewrite)
        if not verdict.ok:
            failures.append(f"{draft_id} ({what}): {verdict.reason}")
    rate = 1 - len(failures) / len(STYLE_ONLY)
    assert rate >= 0.9, f"accepted {rate:.0%}; rejected:\n" + "\n".join(failures)


DRAFT = DRAFTS["tokens"]["draft"]
SOURCES = DRAFTS["tokens"]["sources"]


@pytest.mark.parametrize(("rewrite", "kind"), [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("**\n- \n# \n> ", "markup"),
    ("[1]", "markup"),
    ("Los tokens de acceso caducan a las 24 horas y los de actualización son válidos 90 días [1]. "
     "Se guardan en la bóveda, nunca en el repositorio [1].", "new word"),
    ((DRAFT + " ") * 10, "length"),
    ("Access tokens expire after 24 hours, and refresh tokens are valid for 90 days [1]. Tokens "
     "are stored in the v\u0430ult, never in the repository [1].", "look-alike"),
    ("Access tokens expire after \uff12\uff15 hours, and refresh tokens are valid for 90 days [1]. "
     "Tokens are stored in the vault, never in the repository [1].", "number"),
    ("Access tokens expire after \u0662\u0664 hours, and refresh tokens are valid for 91 days [1]. "
     "Tokens are stored in the vault, never in the repository [1].", "number"),
])
def test_bad_input_is_rejected_with_a_reason(rewrite: str, kind: str) -> None:
    verdict = check(rewrite, draft=DRAFT, sources=SOURCES)
    assert not verdict.ok
    assert verdict.kind == kind, verdict.reason


def test_look_alike_digits_that_change_nothing_are_accepted() -> None:
    rewrite = DRAFT.replace("24", "\uff12\uff14").replace("90", "\u0669\u0660")
    assert check(rewrite, draft=DRAFT, sources=SOURCES).ok


def test_a_draft_without_citations_may_be_restyled_but_gains_none() -> None:
    draft = "Access tokens expire after 24 hours. Refresh tokens are valid for 90 days."
    assert check("- Access tokens expire after 24 hours.\n- Refresh tokens are valid for 90 days.",
                 draft=draft).ok
    invented = check("Access tokens expire after 24 hours [1]. Refresh tokens are valid for 90 "
                     "days.", draft=draft)
    assert not invented.ok and invented.kind == "citation"
    changed = check("Access tokens expire after 24 hours. Refresh tokens are valid for 90 weeks.",
                    draft=draft)
    assert not changed.ok and changed.kind == "number"


def test_odd_inputs_never_crash() -> None:
    odd = ["\x00\x01", "[999999999999]", "`" * 50, "1. 2. 3.", "—", "🙂🙂", "a" * 5000, "[1" * 40,
           "```\ncode\n```", "| a | b |\n|---|---|", "0.0.0.0.0.0", "--", "http://", "@@@"]
    for text in odd:
        for draft in (DRAFT, "", "x", text):
            verdict = check(text, draft=draft, sources=[text])
            assert isinstance(verdict.ok, bool)
            assert verdict.ok or verdict.reason


def test_citation_markers_merge_only_with_their_sentences() -> None:
    draft = "Deploys run on Mondays [1]. Rollbacks need the on-call lead [2]."
    merged = "Deploys run on Mondays, and rollbacks need the on-call lead [1][2]."
    assert check(merged, draft=draft).ok
    moved = check("Deploys run on Mondays [1][2]. Rollbacks need the on-call lead.", draft=draft)
    assert not moved.ok and moved.kind == "citation"
    lost = check("Deploys run on Mondays [1] [2].\n\nRollbacks need the on-call lead.", draft=draft)
    assert not lost.ok and lost.kind == "citation"


def test_a_heading_is_a_label_unless_it_states_something() -> None:
    draft = "Deploys run on Mondays [1]. Hotfixes need the on-call lead [2]."
    body = "\n\n- Deploys run on Mondays [1].\n- Hotfixes need the on-call lead [2]."
    assert check("## Deploys" + body, draft=draft).ok
    negated = check("## Never deploy" + body, draft=draft)
    assert not negated.ok and negated.kind == "polarity"
    dated = check("## Deploys on Fridays" + body, draft=draft)
    assert not dated.ok and dated.kind == "day"
