"""A PNG of training and validation loss, saved next to the model it describes."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_losses(history: list[dict[str, Any]], path: Path, *, title: str = "style model") -> Path:
    """Draw ``loss`` and ``eval_loss`` from a Trainer's log history against the step."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot
    import matplotlib.pyplot as plt

    train = [(h["step"], h["loss"]) for h in history if "loss" in h and "step" in h]
    val = [(h["step"], h["eval_loss"]) for h in history if "eval_loss" in h and "step" in h]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if train:
        ax.plot(*zip(*train, strict=True), label="training loss", color="tab:blue")
    if val:
        ax.plot(*zip(*val, strict=True), label="validation loss", color="tab:orange", marker="o")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
