"""Contrastive fine-tuning of the embedding encoder (in-batch + hard negatives).

This is sentence-transformers' ``MultipleNegativesRankingLoss`` written with plain
transformers, so the pooling is exactly :class:`knowledge.embeddings.Embedder`'s (mean over
the attention mask, then L2 normalisation) and the saved folder loads with ``Embedder`` as is.
For each batch, every question must pick its own passage out of all passages in the batch
plus all hard negatives: cross-entropy over ``scale * cosine``.

Validation runs before training (epoch 0) and after each epoch; the best state is what is
saved, so a run that only makes things worse leaves the starting weights. Optional Matryoshka
dimensions add the same loss on truncated prefixes, which makes truncating vectors later safe.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from knowledge.adaptation.pairs import NoLabels, TrainingPair
from knowledge.embeddings import ModelNotFound, _offline, resolve_model_path

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 2e-5
    max_seq_length: int = 160
    max_steps: int | None = None  # stop after this many optimiser steps in total
    scale: float = 20.0  # sentence-transformers' default temperature (1 / 0.05)
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    patience: int = 1  # epochs without improvement before stopping
    seed: int = 13
    matryoshka_dims: tuple[int, ...] = ()
    device: str | None = None  # default: cuda when present, else cpu
    progress: bool = True


@dataclass
class TrainResult:
    path: Path
    base_model: str
    best_epoch: int
    best_validation: float
    steps: int
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    plot: Path | None = None
    improved: bool = False  # False: validation never beat the starting weights

    def summary(self) -> dict[str, Any]:
        return {
            "best_epoch": self.best_epoch, "best_validation": self.best_validation,
            "steps": self.steps, "seconds": round(self.seconds, 1), "improved": self.improved,
            "history": self.history,
        }


def _seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _batches(pairs: Sequence[TrainingPair], size: int, rng: random.Random) -> list[list[TrainingPair]]:
    """Shuffled batches in which no question appears twice.

    Two pairs of one question in a batch would make each other's positive a negative.
    """
    pending = list(pairs)
    rng.shuffle(pending)
    batches: list[list[TrainingPair]] = []
    while pending:
        batch: list[TrainingPair] = []
        seen: set[str] = set()
        rest = []
        for pair in pending:
            key = pair.query_id or pair.query
            if len(batch) < size and key not in seen:
                batch.append(pair)
                seen.add(key)
            else:
                rest.append(pair)
        batches.append(batch)
        pending = rest
    return batches


class _Encoder:
    """The trainable side of ``Embedder``: same tokenisation limits, pooling and normalisation."""

    def __init__(self, path: str, device: str, max_seq_length: int) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=_offline())
        self.model = AutoModel.from_pretrained(path, local_files_only=_offline()).to(device)
        self.device = device
        self.max_len = min(max_seq_length, getattr(self.tokenizer, "model_max_length", max_seq_length))

    def __call__(self, texts: Sequence[str]) -> Any:
        import torch

        batch = self.tokenizer(list(texts), padding=True, truncation=True,
                               max_length=self.max_len, return_tensors="pt").to(self.device)
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)


def _loss(enc: _Encoder, batch: Sequence[TrainingPair], cfg: TrainConfig) -> Any:
    import torch
    import torch.nn.functional as F  # noqa: N812

    q = enc([p.query for p in batch])
    negatives = [n for p in batch for n in p.negatives]
    d = enc([p.positive for p in batch] + negatives)
    labels = torch.arange(len(batch), device=q.device)
    loss = F.cross_entropy(cfg.scale * q @ d.T, labels)
    for dims in cfg.matryoshka_dims:
        if dims < q.shape[1]:
            qd = F.normalize(q[:, :dims], dim=1)
            dd = F.normalize(d[:, :dims], dim=1)
            loss = loss + F.cross_entropy(cfg.scale * qd @ dd.T, labels)
    return loss


def validation_loss(enc: _Encoder, pairs: Sequence[TrainingPair], cfg: TrainConfig) -> float:
    """Mean contrastive loss on held-out pairs, batched the same way (lower is better)."""
    import torch

    if not pairs:
        return float("nan")
    enc.model.eval()
    losses = []
    with torch.inference_mode():
        for batch in _batches(pairs, cfg.batch_size, random.Random(cfg.seed)):
            if len(batch) > 1:
                losses.append(float(_loss(enc, batch, cfg)))
    enc.model.train()
    return sum(losses) / len(losses) if losses else float("nan")


Validator = Callable[[str], float]  # model folder -> score, higher is better


def train_embedding_model(
    *, base_model: str, train_pairs: Sequence[TrainingPair], validation_pairs: Sequence[TrainingPair],
    output_dir: str | Path, config: TrainConfig | None = None, validator: Validator | None = None,
) -> TrainResult:
    """Fine-tune ``base_model`` on ``train_pairs``; the best state by validation goes to ``output_dir``.

    Validation is ``validator(folder)`` when given (e.g. nDCG@10 on held-out questions, higher
    is better), else the contrastive loss on ``validation_pairs`` (lower is better).
    """
    import torch
    from tqdm.auto import tqdm

    cfg = config or TrainConfig()
    if len(train_pairs) < 2:
        raise NoLabels(
            f"only {len(train_pairs)} training pair(s): contrastive training needs at least 2 "
            "questions with a relevant passage; collect more 👍 votes or pass a labelled set"
        )
    path = resolve_model_path(base_model)
    if not Path(path).is_dir() and (Path(base_model).is_absolute() or base_model.startswith((".", "~"))):
        raise ModelNotFound(f"embedding model folder {base_model} does not exist")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    _seed_everything(cfg.seed)
    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        enc = _Encoder(path, device, cfg.max_seq_length)
    except OSError as exc:
        raise ModelNotFound(f"could not load embedding model {base_model!r}: {exc}") from exc
    rng = random.Random(cfg.seed)
    per_epoch = len(_batches(train_pairs, cfg.batch_size, random.Random(cfg.seed)))
    total = per_epoch * cfg.epochs
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    params = [p for p in enc.model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    warmup = max(1, int(total * cfg.warmup_ratio))
    def lr_factor(s: int) -> float:  # linear warm-up, then linear decay to zero
        if s < warmup:
            return (s + 1) / warmup
        return max(0.0, (total - s) / max(1, total - warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(optim, lr_factor)

    def validate() -> tuple[float, dict[str, float]]:
        vloss = validation_loss(enc, validation_pairs, cfg)
        info = {"validation_loss": vloss}
        if validator is None and math.isnan(vloss):
            # Too few held-out pairs to score: no early stopping, the latest weights win.
            return float(step), info
        if validator is not None:
            tmp = out / ".validate"
            enc.model.save_pretrained(tmp)
            enc.tokenizer.save_pretrained(tmp)
            score = float(validator(str(tmp)))
            info["validation_score"] = score
            return score, info
        return -vloss, info

    def save_best() -> None:
        enc.model.save_pretrained(out)
        enc.tokenizer.save_pretrained(out)

    start = time.perf_counter()
    step = 0
    best, info = validate()
    history: list[dict[str, Any]] = [{"epoch": 0, "step": 0, **info}]
    save_best()
    best_epoch, stale = 0, 0
    step_losses: list[float] = []
    enc.model.train()
    bar = tqdm(total=total, desc="adapting embeddings", unit="step", disable=not cfg.progress)
    for epoch in range(1, cfg.epochs + 1):
        if step >= total:
            break
        epoch_losses = []
        for batch in _batches(train_pairs, cfg.batch_size, rng):
            if step >= total:
                break
            if len(batch) < 2:
                continue
            loss = _loss(enc, batch, cfg)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optim.step()
            sched.step()
            optim.zero_grad(set_to_none=True)
            step += 1
            value = float(loss.detach())
            step_losses.append(value)
            epoch_losses.append(value)
            bar.update(1)
            bar.set_postfix(loss=f"{value:.3f}")
        score, info = validate()
        train_loss = sum(epoch_losses) / len(epoch_losses) if epoch_losses else float("nan")
        history.append({"epoch": epoch, "step": step, "train_loss": train_loss, **info})
        log.info("epoch %d: train loss %.4f, validation %s", epoch, train_loss, info)
        if score > best:
            best, best_epoch, stale = score, epoch, 0
            save_best()
        else:
            stale += 1
            if stale >= cfg.patience:
                log.info("early stop after epoch %d (best was epoch %d)", epoch, best_epoch)
                break
    bar.close()
    if (out / ".validate").exists():
        import shutil

        shutil.rmtree(out / ".validate", ignore_errors=True)
    result = TrainResult(
        path=out, base_model=base_model, best_epoch=best_epoch, best_validation=best, steps=step,
        seconds=time.perf_counter() - start, history=history, step_losses=step_losses,
        improved=best_epoch > 0,
    )
    (out / "lorebot_embedding.json").write_text(json.dumps({
        "base_model": base_model, "pooling": "mean", "normalize": True,
        "config": {k: v for k, v in asdict(cfg).items() if k != "progress"},
        "training": result.summary(),
    }, indent=2, default=str))
    result.plot = plot_losses(result, out / "training_loss.png")
    return result


def plot_losses(result: TrainResult, path: Path) -> Path | None:
    """Training loss per step and validation per epoch, as a PNG next to the model."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # plotting is a convenience, never a reason to lose a trained model
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    if result.step_losses:
        ax.plot(range(1, len(result.step_losses) + 1), result.step_losses, label="train loss", alpha=0.7)
    points = [h for h in result.history if not math.isnan(h.get("validation_loss", math.nan))]
    vsteps = [h["step"] for h in points]
    vloss = [h["validation_loss"] for h in points]
    if vloss:
        ax.plot(vsteps, vloss, "o-", label="validation loss")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("contrastive loss")
    ax.set_title(f"embedding adaptation (best epoch {result.best_epoch})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
