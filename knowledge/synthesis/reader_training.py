"""Training the answer reader (``knowledge.synthesis.reader``) from labelled paragraphs.

Input is paragraphs with questions: each answerable question names its answer (a span of the
paragraph), each unanswerable one has none. Every unit of the paragraph (as the extractive answer
cuts it) becomes a (question, unit) pair, labelled 1 when it holds an answer; a few units of
*other* paragraphs that share the question's terms are added as the distractors retrieval brings.
Unanswerable questions give only negatives, which is what teaches the reader to doubt an
on-topic sentence that does not say it.

Training is listwise (see :func:`train`) over the first layers of the embedding encoder and a
fresh head; the tuned layers are saved in fp16 without the word embeddings (those come from the
base model's package), with a ``reader.json`` that says how to rebuild the body.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.answer_eval import contains_gold
from knowledge.synthesis.reader import BODY, HEAD, META, encode, unit_input
from knowledge.synthesis.segments import heading_paths, terms, units


class ReaderDataError(ValueError):
    """A training file is not in the expected layout; the message names the file and line."""


@dataclass(frozen=True)
class QAItem:
    question: str
    answers: tuple[str, ...]  # empty: the paragraph does not answer it


@dataclass(frozen=True)
class QARecord:
    title: str
    paragraph: str
    questions: tuple[QAItem, ...]
    source: str = ""


@dataclass(frozen=True)
class Pair:
    question: str
    text: str  # pair_text(unit, previous unit)
    label: int


@dataclass
class TrainReport:
    pairs: int
    positives: int
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)


def load_records(paths: Iterable[Path]) -> list[QARecord]:
    """``{"title", "paragraph", "questions": [{"q", "answer": str | null}]}`` per line."""
    out: list[QARecord] = []
    for path in paths:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                paragraph = str(raw["paragraph"])
                items = []
                for q in raw["questions"]:
                    answer = q.get("answer")
                    if answer is not None and str(answer) not in paragraph:
                        raise ReaderDataError(f"{path}:{n}: answer {answer!r} is not in the "
                                              "paragraph (answers are copied spans)")
                    items.append(QAItem(str(q["q"]), () if answer is None else (str(answer),)))
            except (KeyError, TypeError, json.JSONDecodeError) as exc:
                raise ReaderDataError(f"{path}:{n}: expected {{title, paragraph, questions: "
                                      f"[{{q, answer}}]}} ({exc})") from exc
            out.append(QARecord(str(raw.get("title", "")), paragraph, tuple(items),
                                source=Path(path).name))
    return out


def records_from_squad(folder: Path, articles: Sequence[str]) -> list[QARecord]:
    """The paragraphs of ``articles`` in a squad2-dev-layout folder, with their questions."""
    from knowledge.answer_eval import load_qa

    data = load_qa(folder)
    by_paragraph: dict[str, list[QAItem]] = {}
    for q in data.questions:
        if data.paragraphs[q.paragraph_id].article in articles:
            by_paragraph.setdefault(q.paragraph_id, []).append(
                QAItem(q.question, () if q.is_impossible else tuple(q.answers)))
    return [QARecord(data.paragraphs[pid].title, data.paragraphs[pid].text, tuple(items),
                     source=f"squad:{data.paragraphs[pid].article}")
            for pid, items in by_paragraph.items()]


def pairs_for(records: Sequence[QARecord], *, distractors: int = 3, seed: int = 0,
              max_negatives: int | None = None) -> list[Pair]:
    """Every unit of the question's own paragraph (or its answering units and the
    ``max_negatives`` others sharing most of the question's terms: the hard ones), plus
    ``distractors`` units of other paragraphs (the ones sharing most of the question's terms,
    as retrieval would bring)."""
    rng = random.Random(seed)
    cut = [units(r.paragraph, 0, starts_document=True) for r in records]
    texts = [_inputs(r.paragraph, us) for r, us in zip(records, cut, strict=True)]
    bags = [[set(terms(u.text)) for u in us] for us in cut]
    out: list[Pair] = []
    for ri, record in enumerate(records):
        others = [j for j in range(len(records)) if j != ri]
        for item in record.questions:
            q_terms = set(terms(item.question))
            own = [(int(bool(item.answers) and contains_gold(u.text, item.answers)), k)
                   for k, u in enumerate(cut[ri])]
            if max_negatives is not None:
                negatives = sorted((k for label, k in own if not label),
                                   key=lambda k: -len(q_terms & bags[ri][k]))[:max_negatives]
                own = [(label, k) for label, k in own if label or k in negatives]
            for label, k in own:
                out.append(Pair(item.question, texts[ri][k], label))
            if not distractors or not others:
                continue
            pool = [(len(q_terms & bags[j][k]), j, k)
                    for j in rng.sample(others, min(len(others), 40))
                    for k in range(len(cut[j]))]
            pool.sort(key=lambda t: -t[0])
            for _, j, k in pool[:distractors]:
                out.append(Pair(item.question, texts[j][k], 0))
    return out


def _inputs(paragraph: str, cut: Sequence[Any]) -> list[str]:
    """Each unit as the answer shows it to the reader: with the sentence before it, or a block
    (list, table, code) with its section's heading path, as ``ExtractiveSynthesizer._read``
    gives it (the chunker's heading path: ``Title > Section``)."""
    from knowledge.chunking import HEADING_SEPARATOR

    headings = heading_paths(paragraph, HEADING_SEPARATOR)
    return [unit_input(u, cut[k - 1].text if k else None, headings.get(u.text))
            for k, u in enumerate(cut)]


def _groups(pairs: Sequence[Pair]) -> list[list[int]]:
    """Indices of each question's pairs (``pairs_for`` emits them one question at a time)."""
    out: list[list[int]] = []
    for i, p in enumerate(pairs):
        if out and pairs[out[-1][0]].question == p.question:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def train(pairs: Sequence[Pair], out: Path, *, base_model: str = "all-MiniLM-L6-v2",
          layers: int = 3, epochs: float = 2.0, batch_size: int = 32, lr: float = 1e-4,
          max_tokens: int = 128, seed: int = 0,
          trained_on: Sequence[str] = (), init: Path | None = None,
          progress: Callable[[int, int, float], None] | None = None) -> TrainReport:
    """Train the reader on ``pairs``; writes its weights and ``reader.json`` to ``out``.

    Listwise: each question's candidates (and a learned "none of them" logit) share one
    softmax, the answering unit(s) the target, or "none" for an unanswerable question. That is
    the decision the answer makes (which unit leads, and whether any does); a pointwise loss
    over 10% positives spent its first thousand steps learning the base rate. ``init``: a
    trained reader's folder to continue from (same base model; ``layers`` as many as it has or
    more, the deeper ones starting from the base model's), instead of the base model's layers
    and a fresh head."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    from knowledge.embeddings import _offline, resolve_model_path
    from knowledge.synthesis.reader_net import ReaderNet, body, load_trained

    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(base_model),
                                              local_files_only=_offline())
    # The layers themselves are tuned (LoRA adapters learned far slower here); the word
    # embeddings stay the base model's and are not saved.
    model = ReaderNet(body(base_model, layers))
    if init is not None:
        load_trained(model, init, body_file=BODY, head_file=HEAD, grow=True)
    model.body.embeddings.word_embeddings.weight.requires_grad_(False)
    groups = _groups(pairs)
    order = list(range(len(groups)))
    per_step = max(1, round(batch_size / (len(pairs) / max(1, len(groups)))))
    steps = max(1, math.ceil(len(groups) / per_step * epochs))
    params = [p for p in model.parameters() if p.requires_grad]
    head = list(model.head.parameters()) + [model.null]
    encoder = [p for p in model.body.parameters() if p.requires_grad]
    # The head starts from nothing, the encoder from a good model: the head learns faster.
    opt = torch.optim.AdamW([{"params": encoder, "lr": lr}, {"params": head, "lr": 10 * lr}],
                            weight_decay=0.01)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm)))
    model.train()
    t0, losses, step, cursor = time.perf_counter(), [], 0, len(order)
    while step < steps:
        if cursor >= len(order):
            rng.shuffle(order)
            cursor = 0
        chosen = [groups[g] for g in order[cursor:cursor + per_step]]
        cursor += per_step
        idx = [i for g in chosen for i in g]
        batch = encode(tokenizer, [pairs[i].question for i in idx], [pairs[i].text for i in idx],
                       max_tokens)
        logits = model(**batch)
        loss = logits.new_zeros(())
        at = 0
        for g in chosen:
            row = torch.cat([logits[at:at + len(g)], model.null])
            target = torch.tensor([pairs[i].label for i in g] + [0], dtype=torch.bool)
            if not target.any():
                target[-1] = True  # unanswerable: "none of them" is the answer
            loss = loss + torch.logsumexp(row, 0) - torch.logsumexp(row[target], 0)
            at += len(g)
        loss = loss / len(chosen)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(loss.item())
        step += 1
        if progress is not None:
            progress(step, steps, sum(losses[-50:]) / len(losses[-50:]))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().half().contiguous() for k, v in model.body.state_dict().items()
               if not k.startswith("embeddings.word_embeddings")}, str(out / BODY))
    head_state = {f"head.{k}": v.detach().contiguous() for k, v in model.head.state_dict().items()}
    save_file(dict(head_state, null=model.null.detach().contiguous()), str(out / HEAD))
    (out / META).write_text(json.dumps({
        "base_model": base_model, "layers": layers, "max_tokens": max_tokens,
        "tuning": "full", "loss": "listwise",
        "trained_on": list(trained_on), "pairs": len(pairs), "questions": len(groups),
        "continued_from": None if init is None else str(init),
        "positives": sum(p.label for p in pairs), "epochs": epochs, "lr": lr,
        "batch_size": batch_size, "seed": seed, "steps": steps}, indent=2)
        + "\n")
    return TrainReport(pairs=len(pairs), positives=sum(p.label for p in pairs), steps=steps,
                       seconds=time.perf_counter() - t0, losses=losses)


def summary(records: Sequence[QARecord]) -> dict[str, Any]:
    qs = [q for r in records for q in r.questions]
    return {"paragraphs": len(records), "questions": len(qs),
            "unanswerable": sum(not q.answers for q in qs)}
