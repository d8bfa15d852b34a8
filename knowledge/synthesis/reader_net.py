"""The reader's network: the embedding encoder's first layers reading question and sentence
together, and a small head over the two segments' mean-pooled states.

The head sees ``[u, v, u*v, |u-v|]`` (u: the question's tokens, v: the candidate's, each pooled
after the encoder has let them attend to each other). all-MiniLM-L6-v2 was trained so that
``u . v`` is a relevance score, so the head starts from that and the adapters learn the rest.
(A first reader with a head on the pooled pair learned only the base rate: a linear function
of one pooled vector cannot compare the question with the sentence; the [CLS] state of this
model is nearly constant.) Kept apart from ``reader`` so that importing the extractive answer
does not import torch.
"""

from __future__ import annotations

import re
from typing import Any

import torch

HIDDEN = 256


def _pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


class ReaderNet(torch.nn.Module):
    def __init__(self, body: Any) -> None:
        super().__init__()
        self.body = body
        size = int(body.config.hidden_size)
        self.head = torch.nn.Sequential(torch.nn.Linear(4 * size, HIDDEN), torch.nn.GELU(),
                                        torch.nn.Linear(HIDDEN, 1))
        # The "none of these answers" logit of training's listwise softmax.
        self.null = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        hidden = self.body(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        segment = token_type_ids.bool() & attention_mask.bool()
        u = torch.nn.functional.normalize(_pool(hidden, attention_mask.bool() & ~segment), dim=-1)
        v = torch.nn.functional.normalize(_pool(hidden, segment), dim=-1)
        return self.head(torch.cat([u, v, u * v, (u - v).abs()], dim=-1)).reshape(-1)


_LAYER = re.compile(r"^encoder\.layer\.(\d+)\.")


def load_trained(model: ReaderNet, folder: Any, *, body_file: str, head_file: str,
                 grow: bool = False) -> None:
    """A trained reader's layers, head and "none" logit into ``model`` (its word embeddings
    stay the base model's: they are not saved). Raises ConfigError when they do not fit.
    ``grow`` (training only): ``model`` may have more layers than the saved reader; the extra
    ones keep the base model's weights, to continue a reader one layer deeper."""
    from pathlib import Path

    from safetensors.torch import load_file

    from knowledge.errors import ConfigError

    folder = Path(folder)
    state = {k: v.float() for k, v in load_file(str(folder / body_file)).items()}
    saved_layers = {int(m.group(1)) for k in state if (m := _LAYER.match(k))}
    missing, unexpected = model.body.load_state_dict(state, strict=False)
    if grow:
        missing = [k for k in missing if not ((m := _LAYER.match(k))
                                              and int(m.group(1)) not in saved_layers)]
    if unexpected or any(not k.startswith("embeddings.word_embeddings") for k in missing):
        raise ConfigError(f"{folder / body_file} does not fit a {model.body.config.num_hidden_layers}"
                          "-layer body of its base model; retrain the reader")
    saved = load_file(str(folder / head_file))
    model.head.load_state_dict({k[5:]: v for k, v in saved.items() if k.startswith("head.")})
    model.null.data.copy_(saved["null"])


def body(base_model: str, layers: int, *, eager: bool = False) -> Any:
    """The encoder cut to its first ``layers`` layers (the rest are not loaded). ``eager``
    attention for an ONNX export (knowledge/onnx_encoder.py: the fused kernel's trace ignored
    the padding mask)."""
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    from knowledge.embeddings import _offline, resolve_model_path

    path = resolve_model_path(base_model)
    config = AutoConfig.from_pretrained(path, local_files_only=_offline())
    config.num_hidden_layers = layers
    verbosity = hf_logging.get_verbosity()
    # The unused layers and pooler are reported as "unexpected" weights: by design here.
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        extra = {"attn_implementation": "eager"} if eager else {}
        return AutoModel.from_pretrained(path, config=config, local_files_only=_offline(),
                                         add_pooling_layer=False, **extra)
    finally:
        hf_logging.set_verbosity(verbosity)


class OnnxReader:
    """The same network on ONNX Runtime (measured about 2x faster than torch bf16 here)."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self.model = b""  # the ONNX model, kept by export() for int8()
        self.quantized = False

    @classmethod
    def export(cls, net: ReaderNet, sample: dict[str, torch.Tensor]) -> OnnxReader:
        from knowledge.onnx_encoder import export_onnx, session

        names = ["input_ids", "attention_mask", "token_type_ids"]
        axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"logits": {0: "batch"}}
        reader = cls(session(model := export_onnx(net, tuple(sample[n] for n in names), names,
                                                  "logits", axes)))
        reader.model = model
        return reader

    def int8(self) -> OnnxReader:
        """The same reader with int8 matrix multiplications (``onnx_encoder.quantized``)."""
        from knowledge.onnx_encoder import quantized, session

        out = OnnxReader(session(quantized(self.model)))
        out.quantized = True
        return out

    def __call__(self, batch: dict[str, Any]) -> Any:
        import numpy as np

        feed = {n: np.asarray(batch[n], dtype=np.int64)
                for n in ("input_ids", "attention_mask", "token_type_ids")}
        return self._session.run(None, feed)[0]
