"""A folder of files (or a glob such as ``docs/**/*.md``, or one file) as a knowledge source.

``external_id`` is the path relative to the folder (the part before the first wildcard of a
glob), ``uri`` the file path, ``updated_at`` the mtime. ``load(since=t)`` yields only files
modified after ``t`` and then reports ``complete=False``. Hidden entries, ``.git``,
``node_modules``, virtual environments and other tooling folders are skipped; symlinked folders
are followed once (a link back to a parent cannot loop), but a link (file or folder) whose
target lies outside the source folder is not followed: a folder admitted by an allow-list must
not reach the rest of the host through a planted link. Options: ``exclude`` (list of globs).
A folder that cannot be listed (no read permission, an I/O error) anywhere in the tree is
reported as a DocumentError naming it (``external_id`` the folder's relative path with a trailing
``/``) and leaves the listing incomplete, so nothing is pruned: the files in it were not seen,
not deleted. The other files are still read.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from knowledge.sources.base import SourceConfig, SourceSpec, SourceUnavailable
from knowledge.sources.files import is_skipped_dir, load_file, mtime
from knowledge.sources.readers import reader_for
from knowledge.types import Document, DocumentError

log = logging.getLogger(__name__)

_WILDCARD = re.compile(r"[*?\[]")


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a ``/``-separated glob where ``**`` spans folders and ``*`` does not."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1:]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1:end].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def split_location(location: str) -> tuple[Path, re.Pattern[str] | None]:
    """``(root folder, glob for paths relative to it or None)``."""
    path = Path(location).expanduser()
    parts = path.parts
    for index, part in enumerate(parts):
        if _WILDCARD.search(part):
            root = Path(*parts[:index]) if index else Path(".")
            return root, glob_regex("/".join(parts[index:]))
    return path, None


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FolderSource:
    def __init__(self, spec: SourceSpec, settings: SourceConfig) -> None:
        self.spec = spec
        self.settings = settings
        self.root, self.pattern = split_location(spec.location)
        if self.pattern is None and self.root.is_file():  # one file: its folder, limited to it
            self.root, self.pattern = self.root.parent, re.compile(re.escape(self.root.name) + r"\Z")
        if not self.root.is_dir():
            what = "is not a folder" if self.root.exists() else "does not exist"
            raise ValueError(f"folder source {spec.name!r}: {self.root} {what}; check the location")
        self.root = self.root.resolve()
        excludes = (spec.options or {}).get("exclude") or []
        if isinstance(excludes, str):  # "a/**, *.txt" from a command line
            excludes = excludes.split(",")
        self.excludes = [glob_regex(p.strip()) for p in excludes if p.strip()]
        self._complete = False
        self._cursor: str | None = None
        self.unlisted: list[tuple[Path, str]] = []  # folders the last listing could not read, and why

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def cursor(self) -> str | None:
        return self._cursor

    def _wanted(self, rel: str) -> bool:
        if self.pattern is not None and not self.pattern.match(rel):
            return False
        return not any(ex.match(rel) for ex in self.excludes)

    def files(self) -> Iterator[Path]:
        """Every indexable file under the root, each real folder visited once."""
        if not self.root.is_dir():
            raise SourceUnavailable(f"folder {self.root} is gone; nothing was listed (nothing pruned)")
        seen: set[tuple[int, int]] = set()
        self.unlisted = []

        def unreadable(exc: OSError) -> None:  # os.walk skips such a folder silently without this
            self.unlisted.append((Path(exc.filename or self.root), exc.strerror or str(exc)))

        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=True, onerror=unreadable):
            here = Path(dirpath)
            try:
                st = os.stat(here)
            except OSError as exc:
                self.unlisted.append((here, exc.strerror or str(exc)))
                dirnames[:] = []
                continue
            if (st.st_dev, st.st_ino) in seen:  # a symlink back to a folder already walked
                dirnames[:] = []
                continue
            seen.add((st.st_dev, st.st_ino))
            dirnames[:] = sorted(d for d in dirnames
                                 if not is_skipped_dir(here / d) and self._inside(here / d))
            for name in sorted(filenames):
                path = here / name
                if name.startswith(".") or reader_for(name) is None or not self._inside(path):
                    continue
                if self._wanted(path.relative_to(self.root).as_posix()):
                    yield path

    def _inside(self, path: Path) -> bool:
        """Is what ``path`` really names inside the source folder? (A link out is skipped.)"""
        if not path.is_symlink():
            return True
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):  # dangling or a loop: reading it reports the problem
            return True
        try:
            target.relative_to(self.root)
            return True
        except ValueError:
            log.warning("link leaving the source folder not followed",
                        extra={"source": self.spec.name, "link": str(path)})
            return False

    def load(self, *, since: datetime | None = None) -> Iterator[Document | DocumentError]:
        self._complete = False
        newest: datetime | None = None
        for path in self.files():
            changed = mtime(path)
            if changed is not None:
                newest = max(newest, changed) if newest else changed
            if since is not None and changed is not None and changed <= as_utc(since):
                continue
            yield load_file(path, root=self.root, max_file_mb=self.settings.ingest_max_file_mb)
        for folder, why in self.unlisted:
            yield DocumentError(self._folder_id(folder),
                                f"folder {folder} could not be listed ({why}); its files were not read, "
                                "and nothing in this source is removed until it can be listed")
        if self.unlisted:  # do not move past files not yet seen: the next run looks again
            self._cursor = as_utc(since).isoformat() if since else None
        else:
            self._cursor = newest.isoformat() if newest else None
        self._complete = since is None and not self.unlisted

    def _folder_id(self, folder: Path) -> str:
        try:
            rel = folder.relative_to(self.root).as_posix()
        except ValueError:
            rel = folder.as_posix()
        return "./" if rel in {"", "."} else rel.rstrip("/") + "/"
