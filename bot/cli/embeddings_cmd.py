"""``lorebot embeddings adapt | list | activate VERSION | rollback | reduce``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from bot.cli.audited import audited
from bot.cli.common import emit_json, friendly_errors

app = typer.Typer(help="Adapt the embedding model to your team, shrink vectors, switch safely.",
                  no_args_is_help=True)


def _open() -> tuple[Any, Any]:
    from bot.runtime import open_database
    from bot.settings import get_settings

    settings = get_settings()
    return settings, open_database(settings)


def _tty(as_json: bool) -> bool:
    return sys.stderr.isatty() and not as_json


def _print_gate(gate: dict[str, Any]) -> None:
    typer.echo(f"gate: {gate['reason']}")


def _activate(settings: Any, db: Any, version: str, *, force: bool, max_minutes: float | None,
              as_json: bool) -> dict[str, Any]:
    from knowledge.adaptation import switch

    job = switch.activate(database=db, settings=settings, version=version, force=force,
                          max_seconds=max_minutes * 60 if max_minutes else None, progress=_tty(as_json))
    report = job.wait()
    if report.status != "switched":
        raise ValueError(f"{version} was not activated ({report.status}): {report.error}; "
                         f"{report.previous or 'the previous space'} keeps serving")
    return report.__dict__


def _activate_if_asked(out: dict[str, Any], settings: Any, db: Any, report: Any, *,
                       activate_after: bool, as_json: bool) -> None:
    """``--activate``: switch to a new version that passed its gate, recording the switch."""
    if activate_after and report.status == "candidate":
        out["activation"] = _activate(settings, db, report.version, force=False, max_minutes=None,
                                      as_json=as_json)


def _print_next_step(report: Any, *, activate_after: bool) -> None:
    if report.status == "candidate" and not activate_after:
        typer.echo(f"activate it with: lorebot embeddings activate {report.version}")


@app.command()
@friendly_errors
@audited("embeddings adapt")
def adapt(
    from_feedback: bool = typer.Option(False, "--from-feedback", help="Learn from 👍/👎 on answers."),
    from_dir: Path = typer.Option(None, "--from", help="A labelled BEIR folder to learn from."),
    split: str = typer.Option("train", "--split", help="Which qrels/<split>.tsv to use."),
    epochs: int = typer.Option(1, "--epochs", min=1),
    max_steps: int = typer.Option(0, "--max-steps", help="Stop after N optimiser steps (0: no cap)."),
    batch_size: int = typer.Option(16, "--batch-size", min=2),
    max_seq_length: int = typer.Option(160, "--max-seq-length", min=16),
    learning_rate: float = typer.Option(2e-5, "--lr"),
    base_model: str = typer.Option(None, "--base-model", help="Start from this folder instead."),
    version: str = typer.Option(None, "--version", help="Name of the new version."),
    tolerance: float = typer.Option(0.0, "--tolerance", help="Allowed nDCG@10 drop for the gate."),
    activate_after: bool = typer.Option(False, "--activate", help="Switch to it if the gate passes."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fine-tune the active embedding model on your labels; gate it on held-out questions."""
    from knowledge.adaptation.adapt import adapt as run_adapt
    from knowledge.adaptation.train import TrainConfig

    cfg = TrainConfig(epochs=epochs, max_steps=max_steps or None, batch_size=batch_size,
                      max_seq_length=max_seq_length, learning_rate=learning_rate,
                      progress=_tty(as_json))
    settings, db = _open()
    try:
        report = run_adapt(database=db, settings=settings, beir_dir=str(from_dir) if from_dir else None,
                           split=split, from_feedback=from_feedback, config=cfg, version=version,
                           base_model=base_model, tolerance=tolerance,
                           voted_questions=_voted_questions)
        out = report.to_json()
        _activate_if_asked(out, settings, db, report, activate_after=activate_after, as_json=as_json)
    finally:
        db.dispose()
    if as_json:
        emit_json(out)
        return
    typer.echo(f"{report.version}: {report.status} (saved in {report.path})")
    typer.echo(f"split: {report.split}")
    _print_gate(report.gate.to_json())
    _print_next_step(report, activate_after=activate_after)


def _voted_questions(session: Any) -> list[Any]:
    """The bot's votes, for adaptation learning from feedback (the library never reads them)."""
    from bot.db import embedding_training as records

    return records.voted_questions(session=session)


@app.command("list")
@friendly_errors
def list_versions(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every embedding model version and reduced space, with its held-out score."""
    from bot.db import embedding_training as records
    from knowledge.adaptation import switch

    settings, db = _open()
    try:
        with db.session() as session:
            switch.ensure_base_registered(session=session, settings=settings)
            active = records.active_version(session=session) or switch.BASE_VERSION
            rows = [
                {"version": r.version, "status": r.status, "dimension": r.dimension,
                 "storage": (r.metrics or {}).get("space", {}).get("storage", "vector"),
                 "active": r.version == active,
                 "ndcg@10": ((r.metrics or {}).get("validation") or {}).get("candidate", {}).get("ndcg@10"),
                 "baseline ndcg@10": ((r.metrics or {}).get("validation") or {}).get("current", {}).get(
                     "ndcg@10"),
                 "created": r.created_at}
                for r in records.list_embedding_models(session=session)
            ]
    finally:
        db.dispose()
    if as_json:
        emit_json(rows)
        return
    typer.echo(f"{'':2}{'version':28} {'status':10} {'dim':>5} {'storage':8} {'nDCG@10':>8} {'was':>8}")
    for r in rows:
        mark = "* " if r["active"] else "  "
        nd = f"{r['ndcg@10']:.4f}" if r["ndcg@10"] is not None else "-"
        was = f"{r['baseline ndcg@10']:.4f}" if r["baseline ndcg@10"] is not None else "-"
        typer.echo(f"{mark}{r['version']:28} {r['status']:10} {r['dimension']:>5} {r['storage']:8} "
                   f"{nd:>8} {was:>8}")


@app.command()
@friendly_errors
@audited("embeddings activate")
def activate(
    version: str = typer.Argument(..., help="A version from `lorebot embeddings list`."),
    force: bool = typer.Option(False, "--force", help="Activate even if the gate refused it."),
    max_minutes: float = typer.Option(0, "--max-minutes", help="Give up (old space keeps serving) "
                                      "if re-embedding takes longer (0: no limit)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Re-embed the corpus into VERSION's space (the active one keeps serving), then switch."""
    settings, db = _open()
    try:
        report = _activate(settings, db, version, force=force, max_minutes=max_minutes or None,
                           as_json=as_json)
    finally:
        db.dispose()
    if as_json:
        emit_json(report)
        return
    typer.echo(f"{version} is active ({report['vectors']} vectors written in {report['seconds']:.1f}s; "
               f"was {report['previous']}). Undo with: lorebot embeddings rollback")


@app.command()
@friendly_errors
@audited("embeddings rollback")
def rollback() -> None:
    """Switch back to the space that was active before the last switch."""
    from knowledge.adaptation import switch

    settings, db = _open()
    try:
        old, new = switch.rollback(database=db, settings=settings)
    finally:
        db.dispose()
    typer.echo(f"rolled back: {new} is active again (was {old})")


@app.command()
@friendly_errors
def reduce(
    pca: int = typer.Option(0, "--pca", help="Project to N dimensions (PCA fitted on the corpus)."),
    halfvec: bool = typer.Option(False, "--halfvec", help="Store vectors as halfvec (16-bit)."),
    truncate: int = typer.Option(0, "--truncate", help="Keep the first N dimensions (Matryoshka)."),
    from_feedback: bool = typer.Option(False, "--from-feedback", help="Gate on voted questions."),
    from_dir: Path = typer.Option(None, "--from", help="Gate on a labelled BEIR folder."),
    split: str = typer.Option("train", "--split"),
    tolerance: float = typer.Option(0.0, "--tolerance", help="Allowed nDCG@10 drop for the gate."),
    activate_after: bool = typer.Option(False, "--activate", help="Switch to it if the gate passes."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Make a smaller space from the active one; adopted only if held-out quality holds.

    With no --pca/--truncate/--halfvec, the reduction comes from the settings
    (EMBEDDING_STORAGE, EMBEDDING_DIMENSIONS, EMBEDDING_REDUCTION)."""
    from knowledge.adaptation.compare import Variant
    from knowledge.adaptation.reduce import create_reduced_space

    settings, db = _open()
    if not (pca or halfvec or truncate):
        wanted = Variant.from_settings(settings)
        if wanted.is_full:
            db.dispose()
            raise ValueError("nothing to do: pass --pca N, --truncate N and/or --halfvec, or set "
                             "EMBEDDING_STORAGE=halfvec and/or EMBEDDING_DIMENSIONS=N")
        pca, truncate, halfvec = wanted.pca or 0, wanted.truncate or 0, wanted.storage == "halfvec"
    try:
        report = create_reduced_space(
            database=db, settings=settings, pca=pca or None, halfvec=halfvec,
            truncate_to=truncate or None, beir_dir=str(from_dir) if from_dir else None, split=split,
            from_feedback=from_feedback, tolerance=tolerance, voted_questions=_voted_questions,
        )
        out: dict[str, Any] = report.__dict__.copy()
        _activate_if_asked(out, settings, db, report, activate_after=activate_after, as_json=as_json)
    finally:
        db.dispose()
    if as_json:
        emit_json(out)
        return
    typer.echo(f"{report.version}: {report.status} ({report.space['storage']}({report.space['dimension']}))")
    _print_gate(report.gate)
    _print_next_step(report, activate_after=activate_after)
