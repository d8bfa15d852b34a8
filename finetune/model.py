"""Loading style models: the base to fine-tune, the tiny offline default, and the rewriter.

A saved style model is a normal transformers folder plus ``lorebot_style.json`` (its kind and
how it was prompted). LoRA adapters are merged before saving, so loading needs no peft.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune.dataset import format_prompt

log = logging.getLogger(__name__)

MANIFEST = "lorebot_style.json"
TINY_BASE = "tiny-t5 (built locally)"
CAUSAL_ANSWER_CUE = "\nanswer: "
MAX_SOURCE_TOKENS = 384
MAX_NEW_TOKENS = 256


SMALL_MODEL_PARAMS = 5_000_000


@contextmanager
def threads_for(model: Any) -> Iterator[None]:
    """One torch thread for a tiny model: it gains nothing from more, and on busy cores the
    threads' spinning made a 2-layer T5 train ten times slower (measured: 0.18 s vs 1.6 s/step)."""
    import torch

    small = sum(p.numel() for p in model.parameters()) < SMALL_MODEL_PARAMS
    before = torch.get_num_threads()
    if small:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if small:
            torch.set_num_threads(before)


class BaseModelNotFound(ValueError):
    """The base model is neither an existing folder nor loadable by name."""


class StyleModelLoadError(RuntimeError):
    """A registered style model's folder cannot be loaded (missing or corrupted files)."""


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~", ".\\")) or os.sep + os.sep in name or (
        len(name) > 1 and name[1] == ":")


def train_tokenizer(texts: Iterable[str], *, vocab_size: int = 2000) -> Any:
    """A byte-level BPE tokenizer (cased, lossless) trained on ``texts`` in-process."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tk.train_from_iterator(list(texts), trainer)
    tk.post_processor = processors.TemplateProcessing(single="$A </s>",
                                                      special_tokens=[("</s>", 1)])
    specials = {"pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}
    return PreTrainedTokenizerFast(tokenizer_object=tk, **specials)


def build_tiny_base(texts: Iterable[str], out_dir: Path, *, seed: int = 42) -> Path:
    """A 2-layer T5 (d_model 64) with a byte-level BPE tokenizer trained on ``texts``.

    Only for tests and trying the pipeline offline: it learns the shape of answers, nothing
    like a real rewriter. Real deployments pass ``--base`` (a local flan-t5 or gemma folder).
    """
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tokenizer = train_tokenizer(texts)
    config = T5Config(vocab_size=len(tokenizer), d_model=64, d_ff=128, d_kv=32, num_layers=2,
                      num_decoder_layers=2, num_heads=2, pad_token_id=0, eos_token_id=1,
                      decoder_start_token_id=0)
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


@dataclass
class LoadedBase:
    model: Any
    tokenizer: Any
    kind: str  # "seq2seq" or "causal"
    name: str


def check_base(name: str) -> None:
    """Fail fast, before any data is read, on a base model path that does not exist."""
    if _looks_like_path(name) and not Path(name).expanduser().exists():
        raise BaseModelNotFound(
            f"base model folder {name} does not exist; pass an existing model folder (e.g. a "
            "local flan-t5 or gemma-3-270m) or leave --base out to build the tiny test model"
        )


def load_base(name: str) -> LoadedBase:
    """A base model from a local folder (transformers or GGUF) or a Hugging Face name."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    check_base(name)
    path = Path(name).expanduser()
    kwargs: dict[str, Any] = {}
    if path.is_dir() and not (path / "config.json").exists():
        ggufs = sorted(path.glob("*.gguf"))
        if not ggufs:
            raise BaseModelNotFound(f"{name} has neither a config.json nor a .gguf file; "
                                    "it is not a model folder")
        kwargs["gguf_file"] = ggufs[0].name
    source = str(path) if path.exists() else name
    try:
        config = AutoConfig.from_pretrained(source, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        kind = "seq2seq" if getattr(config, "is_encoder_decoder", False) else "causal"
        cls = AutoModelForSeq2SeqLM if kind == "seq2seq" else AutoModelForCausalLM
        model = cls.from_pretrained(source, **kwargs)
    except ImportError as exc:  # e.g. a GGUF folder without the `gguf` package
        raise BaseModelNotFound(f"cannot load base model {name!r}: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise BaseModelNotFound(
            f"cannot load base model {name!r} ({str(exc).splitlines()[0]}); without internet "
            "pass a local model folder"
        ) from exc
    if "gguf_file" in kwargs:
        # transformers dequantises GGUF weights on load; marked plain, it trains and saves as
        # a normal model (left marked, Trainer refuses it and save_pretrained fails).
        model.hf_quantizer = None
        model.is_quantized = False
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LoadedBase(model=model, tokenizer=tokenizer, kind=kind, name=name)


def write_manifest(out_dir: Path, *, kind: str, base: str, version: str) -> None:
    (out_dir / MANIFEST).write_text(json.dumps(
        {"kind": kind, "base": base, "version": version, "prompt": "question/draft v1"}, indent=2))


class Rewriter:
    """A loaded style model that turns (question, draft) into the team's preferred form."""

    def __init__(self, model: Any, tokenizer: Any, kind: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.kind = kind
        self._lock = threading.Lock()  # one generate at a time per model; torch is not reentrant

    @classmethod
    def load(cls, path: Path) -> Rewriter:
        from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

        try:
            manifest = json.loads((path / MANIFEST).read_text())
            kind = manifest["kind"]
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            cls_ = AutoModelForSeq2SeqLM if kind == "seq2seq" else AutoModelForCausalLM
            model = cls_.from_pretrained(str(path))
        except Exception as exc:  # any broken file means the same thing: this folder is unusable
            raise StyleModelLoadError(f"{path}: {type(exc).__name__}: "
                                      f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
        model.eval()
        return cls(model, tokenizer, kind)

    def prompt(self, question: str, draft: str) -> str:
        text = format_prompt(question, draft)
        return text + CAUSAL_ANSWER_CUE if self.kind == "causal" else text

    def rewrite(self, question: str, draft: str) -> str:
        import torch

        prompt = self.prompt(question, draft)
        enc = self.tokenizer(prompt, return_tensors="pt", truncation=True,
                             max_length=MAX_SOURCE_TOKENS)
        enc.pop("token_type_ids", None)  # T5 and most causal models do not take them
        draft_tokens = len(self.tokenizer(draft).input_ids)
        budget = min(MAX_NEW_TOKENS, 2 * draft_tokens + 16)
        device = next(self.model.parameters()).device
        enc = {k: v.to(device) for k, v in enc.items()}
        with self._lock, threads_for(self.model), torch.inference_mode():
            out = self.model.generate(**enc, max_new_tokens=budget, do_sample=False, num_beams=1,
                                      pad_token_id=self.tokenizer.pad_token_id)
        ids = out[0] if self.kind == "seq2seq" else out[0][enc["input_ids"].shape[1]:]
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()
