"""``lorebot finetune``: the response-style model (dataset, train, status, list, activate,
rollback). Heavy imports (torch, transformers) happen inside the commands, never at startup."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.audited import audited
from bot.cli.common import emit_json, friendly_errors, settings

app = typer.Typer(
    help="Teach lorebot the team's answer STYLE from votes and corrections (never facts).",
    no_args_is_help=True,
)


def _db():  # noqa: ANN202 - a Database; imported lazily to keep `lorebot --help` fast
    from bot.runtime import open_database

    return open_database(settings())


@app.command()
@friendly_errors
def dataset(
    out: Path = typer.Option(None, "--out", help="Folder for train/validation/test JSONL "
                                                 "(default LOREBOT_DATA_DIR/datasets/style)."),
) -> None:
    """Build the training examples from voted and corrected answers and print the report."""
    from bot.style import build_dataset
    from finetune.dataset import write_jsonl

    s = settings()
    db = _db()
    try:
        report = build_dataset(settings=s, db=db)
    finally:
        db.dispose()
    folder = out or Path(s.lorebot_data_dir) / "datasets" / "style"
    paths = write_jsonl(report, folder)
    typer.echo(report.describe())
    typer.echo(f"written to {paths['train'].parent}")


@app.command()
@friendly_errors
@audited("finetune train")
def train(
    base: str = typer.Option(
        None, "--base",
        help="Base model: a local folder (transformers or GGUF) or a Hugging Face name. Without "
             "it (and without STYLE_BASE_MODEL) a tiny 2-layer T5 is built locally: enough to "
             "try the pipeline, not to serve. Real deployments pass e.g. a local flan-t5 or "
             "gemma-3-270m folder."),
    epochs: int = typer.Option(None, "--epochs", min=1, help="Epochs (default 3; early "
                                                             "stopping may end sooner)."),
    lr: float = typer.Option(None, "--lr", help="Learning rate (default depends on the model)."),
    lora: bool = typer.Option(None, "--lora/--no-lora",
                              help="LoRA adapters (default: on for causal, off for seq2seq)."),
    max_steps: int = typer.Option(None, "--max-steps", min=1, help="Stop after N steps."),
) -> None:
    """Fine-tune a style model, evaluate it on held-out answers, and promote it if it wins."""
    from bot import style as api

    db = _db()
    try:
        result = api.train(settings=settings(), db=db, base=base, epochs=epochs, lr=lr,
                           lora=lora, max_steps=max_steps, notify=typer.echo)
    finally:
        db.dispose()
    typer.echo(f"loss plot: {result.plot}")
    typer.echo(f"model: {result.path}")


@app.command()
@friendly_errors
def status() -> None:
    """The active style model and how much new feedback has come in since the last training."""
    from bot import style as api
    from bot.style_report import rejection_summary

    db = _db()
    try:
        typer.echo(api.status(settings=settings(), db=db))
        typer.echo(rejection_summary(db=db))
    finally:
        db.dispose()


@app.command("list")
@friendly_errors
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every style model version, newest first, with its test figures."""
    from bot import style as api

    db = _db()
    try:
        versions = api.list_versions(db=db)
    finally:
        db.dispose()
    if as_json:
        emit_json(versions)
        return
    if not versions:
        typer.echo("no style model versions yet; run `lorebot finetune train`")
        return
    for v in versions:
        rouge = f"{v['rouge_l']:.4f}" if v["rouge_l"] is not None else "-"
        base = f"{v['baseline_rouge_l']:.4f}" if v["baseline_rouge_l"] is not None else "-"
        typer.echo(f"{v['version']:<32} {v['status']:<12} ROUGE-L {rouge} (drafts {base})  "
                   f"{v['base_model']}")


@app.command()
@friendly_errors
@audited("finetune activate")
def activate(version: str = typer.Argument(..., help="A version from `finetune list`.")) -> None:
    """Serve answers with this version (takes effect within seconds, no restart)."""
    from bot import style as api

    db = _db()
    try:
        typer.echo(api.activate(db=db, version=version))
    finally:
        db.dispose()


@app.command()
@friendly_errors
@audited("finetune rollback")
def rollback() -> None:
    """Go back to the previously active version (or to plain drafts if there was none)."""
    from bot import style as api

    db = _db()
    try:
        typer.echo(api.rollback(db=db))
    finally:
        db.dispose()
