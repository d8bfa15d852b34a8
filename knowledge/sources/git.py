"""A git repository on disk as a knowledge source: the files tracked at HEAD.

Files are read from the commit itself (``git ls-tree`` + ``git cat-file``), so uncommitted edits
and untracked files are never indexed and ``version`` is exactly the commit. Docs and code go
through the same readers as a folder (hidden paths, dependency folders and unsupported formats
are left out). Every load lists every tracked file, so ``complete`` is True and deleted files
can be pruned; when the cursor (the commit of the previous load) is known, each document's
``metadata["changed"]`` says whether ``git diff --name-only <cursor>..HEAD`` touched it (the
pipeline's content hash makes unchanged files cheap anyway). ``since`` is not needed here.
Options: ``ref`` (default ``HEAD``), ``url`` (web address of the repository: citations then
link to ``<url>/blob/<branch>/<path>``; the branch rather than the commit, so a new commit does
not change every document's link and with it its content hash).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO

from knowledge.redaction import strip_url_credentials
from knowledge.sources.base import SourceConfig, SourceSpec, SourceUnavailable
from knowledge.sources.files import document_from_bytes, is_skipped_path, max_bytes, too_big_reason
from knowledge.sources.readers import reader_for
from knowledge.types import Document, DocumentError

_GIT_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


class GitError(RuntimeError):
    pass


def git_binary() -> str:
    found = shutil.which("git")
    if found is None:
        raise GitError("the git program is not installed (or not on PATH); install git")
    return found


def git(repo: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(  # noqa: S603 - fixed git binary, arguments are never a shell string
            [git_binary(), "-C", str(repo), *args],
            capture_output=True, env=_GIT_ENV, timeout=300, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0]} failed: {exc}") from exc
    if done.returncode != 0:
        raise GitError(f"git {args[0]} failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


class BlobReader:
    """One ``git cat-file --batch`` process answering blob reads one at a time."""

    def __init__(self, repo: Path) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [git_binary(), "-C", str(repo), "cat-file", "--batch"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_GIT_ENV,
        )

    def read(self, sha: str) -> bytes:
        stdin: IO[bytes] = self.proc.stdin  # type: ignore[assignment]
        stdout: IO[bytes] = self.proc.stdout  # type: ignore[assignment]
        stdin.write(sha.encode() + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3:
            raise GitError(f"blob {sha} missing from the repository")
        data = stdout.read(int(header[2]))
        stdout.read(1)  # the newline after each object
        return data

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)
        if self.proc.stdout:
            self.proc.stdout.close()


class GitSource:
    def __init__(self, spec: SourceSpec, settings: SourceConfig) -> None:
        self.spec = spec
        self.settings = settings
        self.options = spec.options or {}
        path = Path(spec.location).expanduser()
        if not path.is_dir():
            raise ValueError(f"git source {spec.name!r}: {path} does not exist or is not a folder")
        try:
            top = git(path, "rev-parse", "--show-toplevel").decode().strip()
            prefix = git(path, "rev-parse", "--show-prefix").decode().strip()
        except GitError as exc:
            raise ValueError(f"git source {spec.name!r}: {path} is not a git repository ({exc})") from exc
        self.repo = Path(top)
        self.prefix = prefix  # a sub-folder of the repository limits the source to it
        self.ref = str(self.options.get("ref", "HEAD"))
        self._complete = False
        self._cursor: str | None = spec.cursor

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def cursor(self) -> str | None:
        return self._cursor

    def _head(self) -> tuple[str, datetime]:
        try:
            raw = git(self.repo, "rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}")
            head = raw.decode().strip()
            stamp = git(self.repo, "show", "-s", "--format=%ct", head).decode().strip()
        except GitError as exc:
            raise SourceUnavailable(
                f"git source {self.spec.name!r}: {self.ref} is not a commit in {self.repo} "
                "(no commits yet, or a wrong ref option)"
            ) from exc
        return head, datetime.fromtimestamp(int(stamp), tz=UTC)

    def _link_ref(self, head: str) -> str:
        if self.ref != "HEAD":
            return self.ref
        try:
            return git(self.repo, "symbolic-ref", "--quiet", "--short", "HEAD").decode().strip() or head
        except GitError:
            return head  # detached HEAD: only the commit names it

    def _changed(self, head: str) -> set[str] | None:
        old = self.spec.cursor
        if not old or old == head:
            return set() if old == head else None
        try:
            git(self.repo, "cat-file", "-e", f"{old}^{{commit}}")
            out = git(self.repo, "diff", "--name-only", "-z", old, head)
        except GitError:
            return None  # history rewritten since: treat everything as changed
        return {name for name in out.decode("utf-8", "replace").split("\0") if name}

    def _tracked(self, head: str) -> Iterator[tuple[str, int, str]]:
        """``(blob sha, size, path)`` of every regular file at ``head`` under the prefix."""
        args = ["ls-tree", "-r", "-z", "--long", head]
        if self.prefix:
            args += ["--", self.prefix]
        for entry in git(self.repo, *args).split(b"\0"):
            if not entry:
                continue
            meta, _, raw_path = entry.partition(b"\t")
            mode, kind, sha, size = meta.split()
            if kind != b"blob" or mode == b"120000":  # submodules and symlinks are not files
                continue
            # git prints "BAD" as the size of an object it cannot read; the read then reports it
            yield sha.decode(), int(size) if size.isdigit() else 0, raw_path.decode("utf-8", "replace")

    def load(self, *, since: datetime | None = None) -> Iterator[Document | DocumentError]:
        self._complete = False
        head, committed_at = self._head()
        changed = self._changed(head)
        cap = max_bytes(self.settings.ingest_max_file_mb)
        web = strip_url_credentials(str(self.options.get("url", ""))).rstrip("/")
        link_ref = self._link_ref(head) if web else head
        blobs = BlobReader(self.repo)
        try:
            for sha, size, path in self._tracked(head):
                rel = PurePosixPath(path)
                if is_skipped_path(rel) or reader_for(rel.name) is None:
                    continue
                if size > cap:
                    yield DocumentError(path, too_big_reason(size, self.settings.ingest_max_file_mb))
                    continue
                try:
                    data = blobs.read(sha)
                except (GitError, OSError, ValueError) as exc:
                    yield DocumentError(path, f"could not read the file from git: {exc}")
                    continue
                yield document_from_bytes(
                    data,
                    name=rel.name,
                    external_id=path,
                    uri=f"{web}/blob/{link_ref}/{path}" if web else str(self.repo / path),
                    updated_at=committed_at,
                    version=head,
                    metadata={"path": path, "blob": sha, "commit": head,
                              "changed": changed is None or path in changed},
                )
        finally:
            blobs.close()
        self._cursor = head
        self._complete = True
