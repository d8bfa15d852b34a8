"""People are stored as salted hashes, never as platform user ids.

The salt must be secret: with a known salt anyone holding a member list can hash every member
and re-identify askers. So the public values (the old built-in default and the ``.env.example``
placeholder) are refused with a :class:`ConfigError`, and when ASKER_HASH_SALT is unset a random
salt is generated once into ``LOREBOT_DATA_DIR/asker_salt`` (mode 0600, created exclusively so
two processes starting together agree on one) and reused from then on. Several replicas on
different machines must share it: set ASKER_HASH_SALT, or give them the same data folder.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

from bot.settings import PUBLIC_SALT_ERROR, ConfigError, Settings, is_placeholder
from bot.types import Actor

SALT_FILE = "asker_salt"
MIN_SALT_CHARS = 16  # shorter is only warned about by `lorebot doctor`
_cache: dict[Path, bytes] = {}
_lock = threading.Lock()


def salt_path(settings: Settings) -> Path:
    return Path(settings.lorebot_data_dir) / SALT_FILE


def check_salt(value: str, *, where: str = "ASKER_HASH_SALT") -> str:
    """``value`` if it is not a public value, else ConfigError saying why and what to do."""
    stripped = value.strip()
    if is_placeholder(stripped):
        raise ConfigError(PUBLIC_SALT_ERROR.replace("ASKER_HASH_SALT", where, 1))
    return stripped


def _read_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="utf-8").strip()
        if not value:
            raise ConfigError(f"{path} is empty; delete it to generate a new salt (asker hashes "
                              "made before will no longer match) or set ASKER_HASH_SALT") from None
        return check_salt(value, where=str(path)).encode()
    value = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value.encode()


def asker_salt(settings: Settings) -> bytes:
    """ASKER_HASH_SALT, or the salt generated into the data folder (see module docstring)."""
    configured = settings.asker_hash_salt
    if configured is not None and configured.get_secret_value().strip():
        return check_salt(configured.get_secret_value()).encode()
    path = salt_path(settings)
    with _lock:
        if path not in _cache:
            _cache[path] = _read_or_create(path)
        return _cache[path]


def user_hash(settings: Settings, actor: Actor) -> str:
    return hmac.new(asker_salt(settings), actor.key.encode(), hashlib.sha256).hexdigest()


def salt_report(settings: Settings) -> tuple[str, str | None]:
    """``(what doctor shows, the problem to fix or None)``; reads but never creates the salt file."""
    configured = settings.asker_hash_salt
    if configured is not None and configured.get_secret_value().strip():
        if len(configured.get_secret_value().strip()) < MIN_SALT_CHARS:
            return "set (short)", (f"ASKER_HASH_SALT is shorter than {MIN_SALT_CHARS} characters; a short "
                                   "salt can be guessed: use `openssl rand -hex 32`")
        return "set", None
    path = salt_path(settings)
    if not path.exists():
        return f"not set; generated into {path} on first start", None
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return (f"generated in {path} (mode {mode:o})",
                f"chmod 600 {path}: the asker salt is readable by others")
    return f"generated in {path}", None
