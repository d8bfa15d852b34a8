"""Training examples for the style model, built from answers people voted on or corrected.

input  = the question and the grounded draft answer (with its ``[n]`` citation markers);
target = the answer the team approved: a person's correction (weighted highest) or a 👍 answer.
A 👎 answer is kept as a negative example for the preference stage.

Every example lands in train, validation or test by a hash of its interaction id alone, so as
feedback grows an example never moves from one split to another (the test set stays held out).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal


# What the bot reads from its interactions/feedback tables and hands to the dataset builder.
@dataclass(frozen=True)
class Vote:
    value: int
    signal: str
    correction: str | None
    at: datetime


@dataclass(frozen=True)
class LabelledInteraction:
    """One answered question with every vote and correction people gave it."""

    id: uuid.UUID
    question: str
    draft: str
    answer: str
    sources: list[str]
    abstained: bool
    votes: list[Vote] = field(default_factory=list)


Label = Literal["good", "bad"]
Split = Literal["train", "validation", "test"]

# Corrections are what a person actually wanted the answer to look like, so they count most.
WEIGHT_CORRECTION = 3
WEIGHT_UPVOTE = 1
MIN_WORDS = 3
MAX_WORDS = 400
NEAR_DUPLICATE_JACCARD = 0.75  # word 3-shingles; one changed word in a short answer is ~0.8
SPLIT_BUCKETS = (80, 90)  # train < 80 <= validation < 90 <= test (out of 100)

Redactor = Callable[[str], str]


@dataclass(frozen=True)
class Example:
    id: str
    question: str
    draft: str
    target: str
    label: Label
    weight: int
    split: Split
    sources: list[str] = field(default_factory=list)

    @property
    def prompt(self) -> str:
        return format_prompt(self.question, self.draft)


@dataclass
class DatasetReport:
    examples: list[Example]
    dropped: dict[str, int]

    def split(self, name: Split, label: Label | None = None) -> list[Example]:
        return [e for e in self.examples
                if e.split == name and (label is None or e.label == label)]

    def summary(self) -> dict[str, Any]:
        sizes: dict[str, dict[str, int]] = {}
        for name in ("train", "validation", "test"):
            counts = Counter(e.label for e in self.examples if e.split == name)
            corrections = sum(1 for e in self.examples
                              if e.split == name and e.weight == WEIGHT_CORRECTION)
            sizes[name] = {"good": counts.get("good", 0), "bad": counts.get("bad", 0),
                           "corrections": corrections}
        return {"total": len(self.examples), "splits": sizes, "dropped": dict(self.dropped)}

    def describe(self) -> str:
        s = self.summary()
        lines = [f"{s['total']} examples"]
        for name, c in s["splits"].items():
            lines.append(f"  {name:<10} good {c['good']:>5}  bad {c['bad']:>5}  "
                         f"(corrections {c['corrections']})")
        if s["dropped"]:
            lines.append("  dropped: " + ", ".join(f"{k} {v}" for k, v in sorted(s["dropped"].items())))
        return "\n".join(lines)


def format_prompt(question: str, draft: str) -> str:
    """The text the style model reads. Training and the runtime must use the same form."""
    return f"question: {question.strip()}\ndraft: {draft.strip()}"


def split_for(interaction_id: str) -> Split:
    bucket = int(hashlib.sha256(interaction_id.encode()).hexdigest()[:8], 16) % 100
    if bucket < SPLIT_BUCKETS[0]:
        return "train"
    return "validation" if bucket < SPLIT_BUCKETS[1] else "test"


def default_redactor(*, emails: bool = True, phones: bool = True) -> Redactor:
    """The ingestion redactor (secrets by shape and context, e-mails, phones), text only."""
    from knowledge.redaction import redact

    def run(text: str) -> str:
        return redact(text, emails=emails, phones=phones)[0]

    return run


def _resolve(item: LabelledInteraction) -> tuple[Label, str, int] | None:
    """Majority of votes decides; the newest correction wins over any vote. None on a tie."""
    corrections = [v for v in item.votes if v.signal == "correction" and (v.correction or "").strip()]
    if corrections:
        newest = max(corrections, key=lambda v: v.at)
        return "good", str(newest.correction), WEIGHT_CORRECTION
    total = sum(v.value for v in item.votes)
    if total > 0:
        return "good", item.answer, WEIGHT_UPVOTE
    if total < 0:
        return "bad", item.answer, WEIGHT_UPVOTE
    return None


_WORD = re.compile(r"\w+")


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _shingles(text: str, n: int = 3) -> frozenset[str]:
    words = _norm(text).split()
    if len(words) < n:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def build_examples(
    items: Iterable[LabelledInteraction], *, redactor: Redactor | None = None,
) -> DatasetReport:
    """Clean, label and split. Pure: the same interactions always give the same examples."""
    redact = redactor or (lambda text: text)
    dropped: Counter[str] = Counter()
    kept: list[Example] = []
    seen_exact: set[str] = set()
    seen_shingles: list[tuple[frozenset[str], Label]] = []
    # Oldest first so that a near-duplicate keeps its earliest id (and thus its split).
    for item in items:
        if item.abstained:
            dropped["abstained"] += 1
            continue
        resolved = _resolve(item)
        if resolved is None:
            dropped["tied votes"] += 1
            continue
        label, target, weight = resolved
        question, draft, target = redact(item.question), redact(item.draft), redact(target)
        n_words = len(_WORD.findall(target))
        if n_words < MIN_WORDS or len(_WORD.findall(draft)) < MIN_WORDS:
            dropped["too short"] += 1
            continue
        if n_words > MAX_WORDS or len(_WORD.findall(draft)) > MAX_WORDS:
            dropped["too long"] += 1
            continue
        key = _norm(question) + "\x00" + _norm(draft) + "\x00" + _norm(target)
        if key in seen_exact:
            dropped["duplicate"] += 1
            continue
        shingles = _shingles(question + " " + draft + " " + target)
        if any(lab == label and _jaccard(shingles, other) >= NEAR_DUPLICATE_JACCARD
               for other, lab in seen_shingles):
            dropped["near duplicate"] += 1
            continue
        seen_exact.add(key)
        seen_shingles.append((shingles, label))
        iid = str(item.id)
        kept.append(Example(id=iid, question=question, draft=draft, target=target, label=label,
                            weight=weight, split=split_for(iid),
                            sources=[redact(s) for s in item.sources]))
    return DatasetReport(examples=kept, dropped=dict(dropped))


def write_jsonl(report: DatasetReport, out_dir: Path) -> dict[str, Path]:
    """``train.jsonl``, ``validation.jsonl``, ``test.jsonl`` and ``report.json`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in ("train", "validation", "test"):
        path = out_dir / f"{name}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for example in report.split(name):  # type: ignore[arg-type]
                row = asdict(example)
                row["input"] = example.prompt
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        paths[name] = path
    report_path = out_dir / "report.json"
    report_path.write_text(json.dumps(report.summary(), indent=2))
    paths["report"] = report_path
    return paths
