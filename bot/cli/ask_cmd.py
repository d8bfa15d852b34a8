"""``lorebot ask "QUESTION"``: the same answer the bot would give in chat, on the terminal."""

from __future__ import annotations

import typer

from bot.cli.common import echo, emit_json, friendly_errors, secho


def answer_payload(answer) -> dict:  # type: ignore[no-untyped-def]
    return {
        "answer": answer.text,
        "abstained": answer.abstained,
        "sources": [
            {"marker": c.marker, "title": c.title, "uri": c.uri, "heading": c.heading,
             "score": c.score, "snippet": c.snippet, "collection": c.collection,
             "ingested_at": c.ingested_at.isoformat() if c.ingested_at else None}
            for c in answer.citations
        ],
        "interaction_id": str(answer.interaction_id) if answer.interaction_id else None,
        "standalone_question": answer.standalone_question,
        "notice": answer.notice,
        "timings_ms": {k: round(v, 1) for k, v in answer.timings_ms.items()},
    }


@friendly_errors
def ask(
    question: str = typer.Argument(..., help="The question, in quotes."),
    collection: list[str] = typer.Option(
        None, "--collection", "-c", help="Search this collection (repeatable); default: "
        "DEFAULT_COLLECTION."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
) -> None:
    """Ask a question of the knowledge base and print the answer with its sources."""
    from bot.answering.service import AnsweringService
    from bot.hygiene import clean_input
    from bot.runtime import open_database
    from bot.settings import get_settings
    from bot.types import Actor, ChannelRef

    question = clean_input(question)  # NUL would be a DataError, a lone surrogate a tokenizer crash
    if not question.strip():
        raise ValueError("the question is empty")
    settings = get_settings()
    db = open_database(settings)
    try:
        service = AnsweringService.from_settings(settings, db)
        import getpass

        answer = service.answer(
            question, channel=ChannelRef(platform="cli", id="terminal"), thread=None,
            asker=Actor(platform="cli", user_id=getpass.getuser()),
            collections=collection or None)
    finally:
        db.dispose()
    if as_json:
        emit_json(answer_payload(answer))
        return
    if answer.notice:
        secho(answer.notice, fg=typer.colors.YELLOW, err=True)
    echo(answer.text)
    if answer.citations:
        echo("\nSources:" if not answer.abstained else "\nClosest sources:")
        for c in answer.citations:
            where = f" — {c.heading}" if c.heading else ""
            echo(f"  [{c.marker}] {c.title}{where} ({c.uri}) score {c.score:.2f}")
    secho(f"\nreference {answer.reference}", fg=typer.colors.BRIGHT_BLACK, err=True)


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
