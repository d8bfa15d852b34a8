"""The style guard: a rewrite may reshape the draft but never add a fact or move a citation."""

from __future__ import annotations

import pytest

from finetune.dataset import Example
from finetune.evaluate import evaluate, rouge_l
from finetune.guard import check

DRAFT = ("Deploys run with make deploy from the ops repository [1]. If a deploy fails, ask "
         "Alice in the infra channel [2].")
SOURCES = ["Deploys use make deploy; the service listens on port 8080.",
           "Escalation: Alice (infra), see https://wiki.example.com/deploy"]


@pytest.mark.parametrize("rewrite", [
    # reordering, bullets, numbered steps, code formatting, words from the sources
    "If a deploy fails, ask Alice in the infra channel [2]. Deploys run with make deploy from "
    "the ops repository [1].",
    "- Deploys: `make deploy` from the ops repository [1].\n- Failing? Ask Alice in the infra "
    "channel [2].",
    "1. Run make deploy from the ops repository [1].\n2. If it fails, ask Alice in infra [2].",
    "Deploys run with make deploy from the ops repository [1] (port 8080). Ask Alice [2].",
    "Short answer: run make deploy [1]. Otherwise, e.g. on failure, ask Alice [2].",
])
def test_faithful_reformatting_is_accepted(rewrite: str) -> None:
    verdict = check(rewrite, draft=DRAFT, sources=SOURCES)
    assert verdict.ok, verdict.reason


@pytest.mark.parametrize(("rewrite", "kind", "fact"), [
    ("Deploys run with make deploy from the ops repository [1], on port 9090. Ask Alice [2].",
     "number", "9090"),
    ("Deploys run with make deploy from the ops repository [1].", "citation", "drops citation [2]"),
    ("Deploys run with make deploy [1]. Ask Alice [2]. It takes minutes [3].",
     "citation", "invents citation [3]"),
    ("Deploys run with make deploy [1]. If it fails, ask Alice or Bob [2].", "name", "Bob"),
    ("Deploys run with make deploy [1], see https://evil.example.org/x. Ask Alice [2].",
     "URL", "https://evil.example.org/x"),
    ("Deploys run with make deploy [1]. Ask Alice at alice@corp.example [2].",
     "e-mail", "alice@corp.example"),
    ("Deploys run with `deploy_all` [1]. Ask Alice [2].", "identifier", "deploy_all"),
    ("Deploys run with make deploy via kubeCtl [1]. Ask Alice [2].", "identifier", "kubeCtl"),
    ("Deploys run with ops.deploy.run [1]. Ask Alice [2].", "identifier", "ops.deploy.run"),
    ("Deploys run with make deploy [1]. Ask Alice [2]. Use `--force` when a deploy fails.",
     "command flag", "--force"),
    ("", "empty", "empty"),
])
def test_rewrites_that_add_or_drop_facts_are_rejected(rewrite: str, kind: str, fact: str) -> None:
    verdict = check(rewrite, draft=DRAFT, sources=SOURCES)
    assert not verdict.ok and verdict.reason == str(verdict.reasons[0])
    named = [r for r in verdict.reasons if r.kind == kind]
    assert named, verdict.reasons
    assert str(named[0]).startswith(kind + ": ") and fact in str(named[0])


def test_sentence_initial_capitals_are_not_names_but_mid_sentence_ones_are() -> None:
    draft = "the form is on the intranet [1]."
    assert check("Thanks for asking. The form is on the intranet [1].", draft=draft).ok
    assert not check("the form is on the Intranet of Globex [1].", draft=draft).ok


def test_rouge_l_is_the_lcs_f_measure() -> None:
    assert rouge_l("a b c d", "a b c d") == pytest.approx(1.0)
    assert rouge_l("x y", "a b") == 0.0
    # LCS of "a b c" and "a c d" is 2: P = 2/3, R = 2/3 -> F = 2/3 whatever beta is.
    assert rouge_l("a b c", "a c d") == pytest.approx(2 / 3)
    # P = 1, R = 0.5 with beta 1.2: (1 + 1.44) * 0.5 / (0.5 + 1.44) = 0.6289
    assert rouge_l("a b", "a x b y") == pytest.approx(1.22 / 1.94, rel=1e-4)


def test_evaluate_uses_the_draft_when_the_guard_rejects() -> None:
    ex = Example(id="1", question="q?", draft="Use the form [1].", target="Use the form [1]. Thanks!",
                 label="good", weight=1, split="test")
    good = evaluate([ex], lambda e: e.draft + " Thanks!")
    assert good["model"]["guard_pass_rate"] == 1.0
    assert good["effective"]["rouge_l"] == pytest.approx(1.0)
    assert good["baseline"]["rouge_l"] < 1.0
    bad = evaluate([ex], lambda e: "Use the form at 9am [1]. Thanks!")
    assert bad["model"]["guard_pass_rate"] == 0.0
    assert bad["effective"]["rouge_l"] == bad["baseline"]["rouge_l"]
    assert bad["model"]["guard_rejections"] == {"time": 1}
