"""Powers by place: what a chat admin may point lorebot at, as the operator allowed it.

A chat admin is someone the operator trusts with the knowledge base, not with the host: a
source added from chat is read by the server process, so without limits ``sources add etc /etc``
would quote the host's files back to every member. The operator (whoever runs ``lorebot`` in a
shell on the host) is not limited: they can read those files anyway.

Chat may add a local source only under ``CHAT_SOURCE_FOLDER_ROOTS`` (after resolving symlinks,
so a link inside a root that points outside it does not count as inside), a web source only on a
host matching ``CHAT_SOURCE_URL_HOSTS``, and only kinds in ``CHAT_SOURCE_KINDS``. Both lists are
empty by default: chat may add no folder and no URL until the operator says which.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from bot.settings import Settings

_WILDCARD = re.compile(r"[*?\[]")
_LOCAL_KINDS = ("folder", "jsonl", "git")


class NotAllowedFromChat(PermissionError):
    """The operator's settings do not let chat admins do this; the message names the setting."""


def _base_path(location: str) -> tuple[Path, str]:
    """The fixed part of a path (before any wildcard) and the pattern after it."""
    path = Path(location).expanduser()
    parts = path.parts
    for index, part in enumerate(parts):
        if _WILDCARD.search(part):
            return (Path(*parts[:index]) if index else Path(".")), str(Path(*parts[index:]))
    return path, ""


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives, relative against absolute
        return False


def confine_local(settings: Settings, location: str) -> str:
    """``location`` resolved (symlinks, ``.``) if it lies under a chat folder root, else refused.

    Returns the resolved location, which is what gets stored: the check and the later reads
    then name the same place, even if a symlink on the way is changed afterwards.
    """
    roots = [os.path.realpath(r) for r in settings.chat_source_folder_roots]
    if not roots:
        raise NotAllowedFromChat(
            "chat admins may not add folders or files on this server yet: the operator lists the "
            "folders chat may use in CHAT_SOURCE_FOLDER_ROOTS (or adds the source with "
            "`lorebot sources add` on the host)")
    if ".." in Path(location).parts:
        raise NotAllowedFromChat(f"{location!r}: paths with `..` are not accepted from chat")
    if not os.path.isabs(os.path.expanduser(location)):
        raise NotAllowedFromChat(f"{location!r}: give an absolute path under one of "
                                 f"CHAT_SOURCE_FOLDER_ROOTS ({', '.join(roots)})")
    base, pattern = _base_path(location)
    resolved = os.path.realpath(base)
    if not any(_inside(resolved, root) for root in roots):
        raise NotAllowedFromChat(
            f"{location!r} is outside the folders chat admins may use (CHAT_SOURCE_FOLDER_ROOTS: "
            f"{', '.join(roots)}); the operator can widen that setting or add it with "
            "`lorebot sources add` on the host")
    return os.path.join(resolved, pattern) if pattern else resolved


def host_allowed(patterns: list[str], host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(fnmatch.fnmatchcase(host, p.strip().lower().rstrip(".")) for p in patterns if p.strip())


def confine_url(settings: Settings, location: str) -> str:
    if not settings.chat_source_url_hosts:
        raise NotAllowedFromChat(
            "chat admins may not add web sources on this server yet: the operator lists the hosts "
            "chat may use in CHAT_SOURCE_URL_HOSTS (e.g. wiki.example.com,*.example.com)")
    try:
        parts = urlsplit(location.strip())
        host = parts.hostname or ""
    except ValueError:
        raise NotAllowedFromChat(f"{location!r} is not a URL I can read") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise NotAllowedFromChat(f"a web source from chat needs an http(s) URL with a host, not "
                                 f"{location!r}")
    if parts.username or parts.password:
        raise NotAllowedFromChat("a URL with a user name or password is not accepted from chat")
    if not host_allowed(settings.chat_source_url_hosts, host):
        raise NotAllowedFromChat(
            f"host {host!r} is not one chat admins may add (CHAT_SOURCE_URL_HOSTS: "
            f"{', '.join(settings.chat_source_url_hosts)})")
    return location.strip()


def confine_source(settings: Settings, *, kind: str, location: str) -> str:
    """The location a chat admin may add for ``kind``, or :class:`NotAllowedFromChat`."""
    kinds = [k.lower() for k in settings.chat_source_kinds]
    if kind not in kinds:
        raise NotAllowedFromChat(
            f"chat admins may not add {kind} sources (CHAT_SOURCE_KINDS: {', '.join(kinds) or 'none'})")
    if kind == "web":
        return confine_url(settings, location)
    if kind in _LOCAL_KINDS:
        return confine_local(settings, location)
    return location  # a chat channel source names a channel, not a place on the host
