"""Fine-tuning a style model: supervised on approved answers, then KTO on 👎 ones when enough.

Evaluation on the validation split happens once per epoch; early stopping watches its loss and
the best checkpoint is the one kept. Seeded, so the same data and settings give the same model.
"""

from __future__ import annotations

import logging
import math
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune.dataset import DatasetReport, Example
from finetune.model import (
    CAUSAL_ANSWER_CUE,
    MAX_NEW_TOKENS,
    MAX_SOURCE_TOKENS,
    TINY_BASE,
    LoadedBase,
    build_tiny_base,
    load_base,
    threads_for,
    write_manifest,
)
from finetune.plot import plot_losses

log = logging.getLogger(__name__)

Notify = Callable[[str], None]


@dataclass
class TrainConfig:
    base: str | None = None
    epochs: int = 3
    lr: float | None = None
    lora: bool | None = None  # None: LoRA for causal models, full fine-tuning for seq2seq
    max_steps: int | None = None
    batch_size: int = 8
    seed: int = 42
    patience: int = 2
    kto: bool | None = None  # None: run KTO when at least kto_min_negatives 👎 examples exist
    kto_min_negatives: int = 20
    kto_steps: int = 50
    progress: bool | None = None  # None: a progress bar only on a terminal


@dataclass
class TrainedModel:
    path: Path
    kind: str
    base: str
    lora: bool
    steps: int
    seconds: float
    best_eval_loss: float | None
    history: list[dict[str, Any]]
    plot: Path
    kto: str  # "used", or why it was not
    notes: list[str] = field(default_factory=list)


def _default_lr(kind: str, lora: bool, tiny: bool) -> float:
    if tiny:
        return 3e-3  # a randomly initialised toy model needs big steps to learn anything quickly
    return 2e-4 if lora else (3e-4 if kind == "seq2seq" else 3e-5)


def _features(base: LoadedBase, example: Example) -> dict[str, list[int]]:
    tok = base.tokenizer
    if base.kind == "seq2seq":
        source = tok(example.prompt, truncation=True, max_length=MAX_SOURCE_TOKENS)
        labels = tok(example.target, truncation=True, max_length=MAX_NEW_TOKENS)["input_ids"]
        return {"input_ids": source["input_ids"], "attention_mask": source["attention_mask"],
                "labels": labels}
    # Causal: the loss covers only the answer; the prompt is context, not something to learn.
    prompt_ids = tok(example.prompt + CAUSAL_ANSWER_CUE, truncation=True,
                     max_length=MAX_SOURCE_TOKENS)["input_ids"]
    target_ids = tok(example.target, add_special_tokens=False, truncation=True,
                     max_length=MAX_NEW_TOKENS)["input_ids"] + [tok.eos_token_id]
    ids = prompt_ids + target_ids
    return {"input_ids": ids, "attention_mask": [1] * len(ids),
            "labels": [-100] * len(prompt_ids) + target_ids}


def _apply_lora(base: LoadedBase) -> Any:
    from peft import LoraConfig, TaskType, get_peft_model
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as KNOWN

    model_type = getattr(base.model.config, "model_type", "")
    targets = None if model_type in KNOWN else "all-linear"
    config = LoraConfig(
        r=8, lora_alpha=16, lora_dropout=0.05, target_modules=targets,
        task_type=TaskType.SEQ_2_SEQ_LM if base.kind == "seq2seq" else TaskType.CAUSAL_LM,
    )
    return get_peft_model(base.model, config)


def _run_kto(model: Any, base: LoadedBase, report: DatasetReport, cfg: TrainConfig, lr: float,
             work: Path, progress: bool) -> str:
    """A short KTO pass on unpaired good/bad answers (causal models only, TRL's KTOTrainer)."""
    import torch
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import KTOConfig, KTOTrainer

    rows = [{"prompt": e.prompt + CAUSAL_ANSWER_CUE, "completion": e.target,
             "label": e.label == "good"} for e in report.split("train")]
    args = KTOConfig(
        output_dir=str(work / "kto"), per_device_train_batch_size=max(2, cfg.batch_size),
        max_steps=min(cfg.kto_steps, cfg.max_steps or cfg.kto_steps), learning_rate=lr / 10,
        seed=cfg.seed, report_to="none",
        logging_steps=5, save_strategy="no", disable_tqdm=not progress, beta=0.1,
        use_cpu=not torch.cuda.is_available(), bf16=torch.cuda.is_available()
        and torch.cuda.is_bf16_supported(),
    )
    trainer = KTOTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                         processing_class=base.tokenizer)
    if not progress:
        trainer.remove_callback(PrinterCallback)
    trainer.train()
    return "used"


def train_style_model(
    report: DatasetReport, *, out_dir: Path, version: str, cfg: TrainConfig, work_dir: Path,
    notify: Notify | None = None,
) -> TrainedModel:
    """Fine-tune on ``report``'s train split and save the best model (merged) to ``out_dir``."""
    import torch
    from transformers import (
        DataCollatorForSeq2Seq,
        EarlyStoppingCallback,
        PrinterCallback,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    say = notify or (lambda msg: None)
    progress = sys.stderr.isatty() if cfg.progress is None else cfg.progress
    set_seed(cfg.seed)
    train_good = report.split("train", "good")
    val_good = report.split("validation", "good")
    work_dir.mkdir(parents=True, exist_ok=True)

    tiny = cfg.base is None
    if tiny:
        texts = [t for e in report.examples for t in (e.prompt, e.target)]
        base = load_base(str(build_tiny_base(texts, work_dir / "tiny-base", seed=cfg.seed)))
        base.name = TINY_BASE
    else:
        base = load_base(cfg.base)  # type: ignore[arg-type]
    use_lora = cfg.lora if cfg.lora is not None else base.kind == "causal"
    lr = cfg.lr or _default_lr(base.kind, use_lora, tiny)
    model = _apply_lora(base) if use_lora else base.model
    say(f"training a {base.kind} style model from {base.name} "
        f"({'LoRA' if use_lora else 'full fine-tuning'}, lr {lr:g}) on {len(train_good)} examples")

    # A correction counts several times: repeating it is the simplest faithful weighting.
    train_rows = [_features(base, e) for e in train_good for _ in range(e.weight)]
    val_rows = [_features(base, e) for e in val_good]
    steps_per_epoch = max(1, math.ceil(len(train_rows) / cfg.batch_size))
    eval_every = steps_per_epoch if not cfg.max_steps else min(steps_per_epoch, cfg.max_steps)
    args = TrainingArguments(
        output_dir=str(work_dir / "checkpoints"),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps or -1,
        learning_rate=lr,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        eval_strategy="steps", eval_steps=eval_every,
        save_strategy="steps", save_steps=eval_every, save_total_limit=2,
        load_best_model_at_end=True, metric_for_best_model="eval_loss", greater_is_better=False,
        logging_steps=max(1, min(10, eval_every // 2)),
        seed=cfg.seed, data_seed=cfg.seed, report_to="none", disable_tqdm=not progress,
        use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0,
        save_only_model=True,
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=train_rows, eval_dataset=val_rows,
        data_collator=DataCollatorForSeq2Seq(base.tokenizer, label_pad_token_id=-100,
                                             padding=True),
        processing_class=base.tokenizer,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.patience)],
    )
    if not progress:  # no log dicts on stdout when a scheduler or the admin command trains
        trainer.remove_callback(PrinterCallback)
    started = time.perf_counter()
    with threads_for(model):
        output = trainer.train()
    seconds = time.perf_counter() - started
    history = list(trainer.state.log_history)
    best = trainer.state.best_metric

    negatives = len(report.split("train", "bad"))
    kto_wanted = cfg.kto if cfg.kto is not None else negatives >= cfg.kto_min_negatives
    if not kto_wanted:
        kto = f"not used ({negatives} 👎 examples, {cfg.kto_min_negatives} needed)"
    elif base.kind != "causal":
        kto = "not used (TRL's KTO trains causal models only; this base is seq2seq)"
    else:
        say(f"preference pass (KTO) with {negatives} 👎 and {len(train_good)} 👍 examples")
        with threads_for(model):
            kto = _run_kto(trainer.model, base, report, cfg, lr, work_dir, progress)

    final = trainer.model
    if use_lora:
        final = final.merge_and_unload()
    out_dir.mkdir(parents=True, exist_ok=True)
    final.save_pretrained(out_dir)
    base.tokenizer.save_pretrained(out_dir)
    write_manifest(out_dir, kind=base.kind, base=base.name, version=version)
    plot = plot_losses(history, out_dir / "loss.png", title=f"style model {version}")
    shutil.rmtree(work_dir / "checkpoints", ignore_errors=True)
    return TrainedModel(path=out_dir, kind=base.kind, base=base.name, lora=use_lora,
                        steps=int(output.global_step), seconds=seconds,
                        best_eval_loss=float(best) if best is not None else None,
                        history=history, plot=plot, kto=kto)
