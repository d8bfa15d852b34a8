"""The answer reader: a small cross-encoder that reads a question with one candidate sentence.

The extractive answer's features (term coverage, rank, answer type) find the few plausible
sentences cheaply; which of them *answers* is a reading question: "What ruined Richard's plans?"
is answered by "But a storm dispersed the fleet.", which shares no word with it. The reader sees
the question and the sentence together (with the sentence before it, for "It ..." and "the
island"), so it can judge that; its probability is also the answerability signal (no sentence
answers: the passages are on topic but do not say it).

It is the embedding model's own encoder (all-MiniLM-L6-v2, which ships offline) cut to its first
layers, fine-tuned, with a small head, trained by
``knowledge.synthesis.reader_training`` on reading-comprehension questions written for lorebot
(``datasets/answer-reader/``: prose paragraphs and Markdown pages with lists, tables and code),
edited unanswerable copies of them (``reader_perturb``) and one SQuAD 2.0 article from
``../shared``; the tuned layers (fp16, without the word embeddings: 12.6 MB) ship in
``knowledge/synthesis/reader_weights/``. Nothing is downloaded. The shipped reader was calibrated
on int8 logits and runs with int8 matrix multiplications on ONNX Runtime (half the time of fp32;
its ``reader.json`` says ``"int8": true``), in fp32/bf16 torch where ONNX Runtime is missing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.errors import ConfigError
from knowledge.synthesis.segments import Unit, clip_words

log = logging.getLogger(__name__)

BUILTIN = Path(__file__).with_name("reader_weights")
HEAD = "head.safetensors"
BODY = "body.safetensors"  # fine-tuned layers (fp16), without the word embeddings
META = "reader.json"
# What the reader is shown of a candidate: the unit (long ones clipped: the answer is rarely
# past word 60) and the sentence before it, which names what "It" or "the island" is.
UNIT_WORDS = 60
CONTEXT_WORDS = 30
# Between a unit and its context in a reader input (the tokenizer reads it as its separator).
CONTEXT_SEP = " [SEP] "
# An input is fitted to max_tokens only when its unit keeps at least this many tokens; a longer
# question than that leaves the tokenizer's own truncation to decide.
MIN_UNIT_TOKENS = 16


# int8 logits may move this far from fp32's on the probe (measured up to ~0.6 on the held-out
# article's batches: activations are quantised per batch); further means a broken quantisation.
INT8_TOLERANCE = 1.5
# The padded batch every export (ONNX, then int8) is checked on before it answers.
PROBE_Q = "Who designed the bridge over the river?"
PROBE = [("The engineer Mara Loquist drew the final plans in 1921.",
          "The bridge crosses the Vell at its narrowest point."),
         ("It rained for most of the week.", None),
         ("The river floods every spring, and the old ford was lost in 1911.", None)]


def pair_text(text: str, context: str | None) -> str:
    """The second segment of a reader input; training and answering build it the same way."""
    body = clip_words(text, UNIT_WORDS)
    return f"{body}{CONTEXT_SEP}{clip_words(context, CONTEXT_WORDS)}" if context else body


def encode(tokenizer: Any, questions: Sequence[str], texts: Sequence[str], max_tokens: int) -> Any:
    """The model's input for (question, reader input) pairs, as training and answering both
    build it. An input too long for ``max_tokens`` loses the end of its unit, never its
    context: the tokenizer's own truncation cuts from the end, and the context comes last, so
    a long list lost its heading (what the list is about) in training and in answers alike."""
    fitted = list(texts)
    split = [(i, *t.split(CONTEXT_SEP, 1)) for i, t in enumerate(texts) if CONTEXT_SEP in t]
    if split:
        asked = list(dict.fromkeys(questions[i] for i, _, _ in split))
        q_len = dict(zip(asked, map(len, tokenizer(asked, add_special_tokens=False)["input_ids"]),
                         strict=True))
        bodies = tokenizer([b for _, b, _ in split], add_special_tokens=False,
                           return_offsets_mapping=True)
        contexts = tokenizer([c for _, _, c in split], add_special_tokens=False)["input_ids"]
        for (i, body, context), ids, offsets, ctx in zip(
                split, bodies["input_ids"], bodies["offset_mapping"], contexts, strict=True):
            # [CLS] question [SEP] unit [SEP] context [SEP]
            room = max_tokens - 4 - q_len[questions[i]] - len(ctx)
            if len(ids) > room >= MIN_UNIT_TOKENS:
                fitted[i] = f"{body[:offsets[room - 1][1]]}{CONTEXT_SEP}{context}"
    return tokenizer(list(questions), fitted, padding=True,
                     truncation="longest_first", max_length=max_tokens, return_tensors="pt")


def unit_input(unit: Unit, previous: str | None, heading: str | None) -> str:
    """A unit as the reader reads it, in training and in answers alike: with the sentence
    before it, or a list, table or code block with its section's heading path (what a block is
    about is usually in its heading, not in the sentence above it)."""
    return pair_text(unit.text, heading if unit.kind == "block" and heading else previous)


@dataclass(frozen=True)
class ReaderPolicy:
    """How the reader's logits become the answer: calibrated per trained reader (its
    ``reader.json``, written by benchmarks/calibrate_reader.py on the tuning article).

    ``candidates``: how many units (the best by the term features alone) the reader reads;
    ``lexical_weight``: the term score's share in the final score (reader logit + weight *
    term score); ``min_score``: below it no unit answers and the synthesiser abstains;
    ``extra_margin``: a second unit follows only within this much of the best; ``pool``: the
    answerability score is the best unit's score (``max``) or the log of the summed
    exponentials of all read units' scores (``sum``: training's listwise softmax, where several
    half-plausible units add up to "something here answers"); ``contradictions``: a read unit
    that says the opposite of a wh-question (``knowledge.synthesis.contradiction``) neither
    leads nor counts toward answering. That one has no threshold to calibrate: a sentence that
    says the question's opposite does not answer it. It is the one field the reader-off
    synthesiser also reads (its term-scored units get the same check)."""

    candidates: int = 6
    lexical_weight: float = 0.25
    min_score: float = -1e9
    extra_margin: float = 1.0
    pool: str = "max"
    contradictions: bool = True


@dataclass(frozen=True)
class ReaderMeta:
    base_model: str
    layers: int
    max_tokens: int
    trained_on: tuple[str, ...] = ()
    policy: ReaderPolicy = ReaderPolicy()  # the calibrated one, or defaults if never calibrated
    # The policy was calibrated on int8 logits (benchmarks/calibrate_reader.py --int8): the
    # reader runs quantised on ONNX Runtime when it can.
    int8: bool = False

    @classmethod
    def read(cls, folder: Path) -> ReaderMeta:
        path = folder / META
        if not path.exists():
            raise ConfigError(f"{folder} is not an answer reader (no {META}); train one with "
                              "benchmarks/train_answer_reader.py or set ANSWER_READER=builtin")
        raw = json.loads(path.read_text())
        policy = raw.get("policy", {})
        return cls(base_model=str(raw["base_model"]), layers=int(raw["layers"]),
                   max_tokens=int(raw.get("max_tokens", 128)),
                   trained_on=tuple(raw.get("trained_on", ())), int8=bool(raw.get("int8")),
                   # every policy field reader.json sets; tuned_on and objective are notes
                   policy=ReaderPolicy(**{f.name: policy[f.name] for f in fields(ReaderPolicy)
                                          if f.name in policy}))


def resolve_reader(setting: str) -> Path | None:
    """``ANSWER_READER``: ``builtin`` (the shipped adapters), ``off``, or a trained folder."""
    value = (setting or "").strip()
    if value.lower() in ("", "off", "none", "false", "0"):
        return None
    if value.lower() == "builtin":
        return BUILTIN
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ConfigError(f"ANSWER_READER={value!r} is not a folder; use builtin, off, or the "
                          "output folder of benchmarks/train_answer_reader.py")
    return path


class AnswerReader:
    """Scores (question, candidate) pairs; higher logit = more likely to answer the question.

    Thread-safe (one lock around the model). On a CPU with bfloat16 support the forward pass
    runs under bf16 autocast (about 1.5x faster here); elsewhere in fp32.
    """

    def __init__(self, model: Any, tokenizer: Any, meta: ReaderMeta, *, bf16: bool) -> None:
        self._onnx: Any = None
        self.model = model
        self.tokenizer = tokenizer
        self.meta = meta
        self.bf16 = bf16
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path | str = BUILTIN, *, precision: str = "auto",
             runtime: str = "auto", int8: bool | None = None) -> AnswerReader:
        """``runtime``: ``auto`` (ONNX Runtime when installed and it agrees with torch on a
        probe batch, else torch), ``onnx`` or ``torch``; ``precision`` is torch's (``auto``:
        bf16 autocast where the CPU has it); ``int8`` (default: what ``reader.json`` says):
        ONNX Runtime with int8 matrix multiplications, about twice as fast."""
        import torch
        from transformers import AutoTokenizer

        from knowledge.embeddings import _offline, cpu_supports_bf16, resolve_model_path
        from knowledge.onnx_encoder import available as onnx_available
        from knowledge.synthesis.reader_net import ReaderNet, body, load_trained

        folder = Path(folder)
        meta = ReaderMeta.read(folder)
        if not (folder / BODY).exists():
            raise ConfigError(f"{folder} has no {BODY}; train the reader with "
                              "benchmarks/train_answer_reader.py or set ANSWER_READER=builtin")
        want_onnx = runtime in ("auto", "onnx") and onnx_available()
        model = ReaderNet(body(meta.base_model, meta.layers, eager=want_onnx))
        load_trained(model, folder, body_file=BODY, head_file=HEAD)
        model.eval()
        tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(meta.base_model),
                                                  local_files_only=_offline())
        bf16 = precision == "bf16" or (precision == "auto" and cpu_supports_bf16()
                                       and not torch.cuda.is_available())
        reader = cls(model, tokenizer, meta, bf16=bf16)
        if want_onnx:
            reader._onnx = reader._checked_onnx(required=runtime == "onnx")
        if reader._onnx is not None and (meta.int8 if int8 is None else int8):
            reader._onnx = reader._checked_int8(reader._onnx)
        elif runtime == "auto" and reader._onnx is not None and bf16:
            # bf16 torch and fp32 ONNX were each the faster one on different runs here: measure.
            reader._onnx = reader._faster_of(reader._onnx)
        if reader._onnx is not None:
            reader._onnx.model = b""  # the exported fp32 model (~50 MB) was kept for int8() only
        log.info("answer reader %s: %d layers, %s", folder, meta.layers,
                 "onnx int8" if reader.int8 else "onnx" if reader._onnx is not None
                 else "bf16" if bf16 else "fp32")
        return reader

    def _checked_onnx(self, *, required: bool) -> Any:
        """The ONNX export, used only if it gives torch's logits on a padded probe batch."""
        import torch

        from knowledge.synthesis.reader_net import OnnxReader

        batch = self._tokenize(PROBE_Q, [pair_text(c, p) for c, p in PROBE])
        try:
            onnx = OnnxReader.export(self.model, batch)
            with torch.inference_mode():
                expected = self.model(**batch).float().numpy()
            got = onnx({k: v.numpy() for k, v in batch.items()}).reshape(-1)
            if np.max(np.abs(got - expected)) < 1e-3:
                return onnx
            reason = f"logits differ by {np.max(np.abs(got - expected)):.4f}"
        except Exception as exc:  # noqa: BLE001 - any export failure means torch answers
            reason = f"{exc.__class__.__name__}: {exc}"
        if required:
            raise ConfigError(f"the answer reader's ONNX export failed ({reason})")
        log.warning("answer reader stays on torch: ONNX export unusable (%s)", reason)
        return None

    @property
    def int8(self) -> bool:
        return self._onnx is not None and bool(self._onnx.quantized)

    def _checked_int8(self, onnx: Any) -> Any:
        """The int8 session, used only if its logits stay near fp32's on the probe batch
        (quantisation moves them by up to about 0.5; a broken one moves them by far more)."""
        texts = [pair_text(c, p) for c, p in PROBE]
        batch = {k: v.numpy() for k, v in self._tokenize(PROBE_Q, texts).items()}
        try:
            quantized = onnx.int8()
            gap = float(np.max(np.abs(quantized(batch).reshape(-1) - onnx(batch).reshape(-1))))
        except Exception as exc:  # noqa: BLE001 - any quantiser failure means fp32 answers
            log.warning("answer reader stays in fp32: int8 quantisation failed (%s)", exc)
            return onnx
        if gap > INT8_TOLERANCE:
            log.warning("answer reader stays in fp32: int8 logits differ by %.2f", gap)
            return onnx
        return quantized

    def _faster_of(self, onnx: Any) -> Any:
        """ONNX, or None (torch) when torch scores a typical 8-candidate batch faster."""
        import time

        texts = [pair_text("The engineer Mara Loquist drew the final plans for the bridge in "
                           "1921, two years after the flood.",
                           "The bridge crosses the Vell at its narrowest point.")] * 8
        timing: dict[str, float] = {}
        for label, engine in (("onnx", onnx), ("torch", None)):
            self._onnx = engine
            self.score("Who designed the bridge over the river?", texts)  # warm up
            runs = []
            for _ in range(3):
                t0 = time.perf_counter()
                self.score("Who designed the bridge over the river?", texts)
                runs.append(time.perf_counter() - t0)
            timing[label] = min(runs)
        log.info("answer reader runtimes (8 candidates): onnx %.1f ms, torch bf16 %.1f ms",
                 timing["onnx"] * 1000, timing["torch"] * 1000)
        return onnx if timing["onnx"] <= timing["torch"] else None

    def _tokenize(self, question: str, texts: Sequence[str]) -> Any:
        return encode(self.tokenizer, [question] * len(texts), texts, self.meta.max_tokens)

    def policy(self) -> ReaderPolicy:
        """The calibrated policy stored with the weights (read with them)."""
        return self.meta.policy

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """One logit per text (``pair_text`` output), in order."""
        import torch

        if not texts:
            return np.zeros(0, dtype=np.float32)
        batch = self._tokenize(question, texts)
        with self._lock:
            if self._onnx is not None:
                return np.asarray(self._onnx({k: v.numpy() for k, v in batch.items()}),
                                  dtype=np.float32).reshape(-1)
            with torch.inference_mode():
                if self.bf16:
                    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                        logits = self.model(**batch)
                else:
                    logits = self.model(**batch)
        return logits.float().reshape(-1).cpu().numpy()
