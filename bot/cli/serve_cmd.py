"""``lorebot serve``: the long-running process (adapters, scheduler, HTTP endpoints)."""

from __future__ import annotations

import typer

from bot.cli.common import friendly_errors, settings


def serve(
    host: str = typer.Option(None, "--host", help="Override LOREBOT_HTTP_HOST."),
    port: int = typer.Option(None, "--port", help="Override LOREBOT_HTTP_PORT."),
    no_scheduler: bool = typer.Option(
        False, "--no-scheduler", help="Do not run scheduled ingests here (another replica does)."
    ),
) -> None:
    """Run lorebot: Slack/Discord (whichever has credentials), the scheduler, and an HTTP
    server with /healthz, /readyz and /metrics. SIGTERM shuts down gracefully."""
    from bot.serve import Service

    code = Service(settings(), host=host, port=port, scheduler=not no_scheduler).run()
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("serve")(friendly_errors(serve))
