"""The guarded style runtime the answering service calls after it has a grounded draft.

Cheap when no model is active: the active version is cached and the registry re-read at most
every :data:`REFRESH_S` seconds, so ``activate`` and ``rollback`` take effect without a restart
(instantly in the process that ran them). A rewrite the guard rejects is replaced by the draft
and the reason returned, for the answering service to store with the interaction.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from finetune import guard, registry
from knowledge.store.base import Database

log = logging.getLogger(__name__)

REFRESH_S = 3.0


class RewriterLike(Protocol):
    def rewrite(self, question: str, draft: str) -> str: ...


Loader = Callable[[Path], RewriterLike]
Lookup = Callable[[Database, "str | None"], "tuple[str, Path] | None"]


@dataclass(frozen=True)
class StyleResult:
    text: str
    version: str | None  # None when no style model is active
    rejected: str | None  # why the draft was sent instead of the rewrite ("kind: what changed")
    kind: str | None = None  # the guard's kind of change (finetune.guard.KINDS), None otherwise


def _default_loader(path: Path) -> RewriterLike:
    from finetune.model import Rewriter

    return Rewriter.load(path)


def rejection_label(reason: str) -> str:
    """A small fixed set of labels for counting: "drops citation [2]" and "[5]" are one."""
    return re.sub(r"\s*\[.*$", "", reason.split(":")[0])[:60]


class StyleRuntime:
    def __init__(self, *, loader: Loader | None = None, lookup: Lookup | None = None,
                 refresh_s: float = REFRESH_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.loader = loader or _default_loader
        self.lookup = lookup or (lambda db, scope: registry.active(db=db, scope=scope))
        self.refresh_s = refresh_s
        self.clock = clock
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._active: dict[tuple[str, str | None], tuple[float, tuple[str, Path] | None]] = {}
        self._models: dict[str, RewriterLike | Exception] = {}
        self.rejections = 0

    def invalidate(self) -> None:
        """Forget the cached active version (after activate/rollback in this process)."""
        with self._lock:
            self._active.clear()
            # A folder that failed to load may have been repaired; let the next answer retry.
            for version in [v for v, m in self._models.items() if isinstance(m, Exception)]:
                del self._models[version]

    def _active_for(self, db: Database, scope: str | None) -> tuple[str, Path] | None:
        key = (getattr(db, "url", ""), scope)
        now = self.clock()
        with self._lock:
            cached = self._active.get(key)
            if cached is not None and now - cached[0] < self.refresh_s:
                return cached[1]
        found = self.lookup(db, scope)
        with self._lock:
            self._active[key] = (now, found)
        return found

    def _model(self, version: str, path: Path) -> RewriterLike | Exception:
        with self._lock:
            model = self._models.get(version)
        if model is not None:
            return model
        with self._load_lock:  # one load at a time: two copies of a big model would not fit
            with self._lock:
                model = self._models.get(version)
            if model is not None:
                return model
            try:
                model = self.loader(path)
            except Exception as exc:  # a broken folder must cost one log line, not answers
                log.error("style model %s failed to load: %s", version, exc)
                model = exc
            with self._lock:
                # Keep only the version in use (and the previous one, for a quick rollback).
                if len(self._models) >= 2:
                    self._models.pop(next(iter(self._models)))
                self._models[version] = model
        return model

    def apply(self, *, enabled: bool, db: Database, draft: str, question: str,
              passages: Sequence[str], channel: Any) -> StyleResult:
        """``enabled`` is STYLE_MODEL_ENABLED; a rejection's reason comes back in the result
        (the caller counts it in its metrics)."""
        if not enabled or not draft.strip():
            return StyleResult(draft, None, None)
        scope = f"{channel.platform}:{channel.id}" if channel is not None else None
        found = self._active_for(db, scope)
        if found is None:
            return StyleResult(draft, None, None)
        version, path = found
        model = self._model(version, path)
        if isinstance(model, Exception):
            return self._reject(draft, version, f"model failed to load: {model}")
        try:
            text = model.rewrite(question, draft)
        except Exception as exc:
            log.exception("style model %s failed to rewrite", version)
            return self._reject(draft, version, f"model failed: {type(exc).__name__}")
        verdict = guard.check(text, draft=draft, sources=passages)
        if not verdict.ok:
            return self._reject(draft, version, verdict.reason or "rejected", verdict.kind,
                                [str(r) for r in verdict.reasons])
        return StyleResult(text, version, None)

    def _reject(self, draft: str, version: str, reason: str, kind: str | None = None,
                reasons: list[str] | None = None) -> StyleResult:
        self.rejections += 1
        log.info("style rewrite rejected, draft sent",
                 extra={"style_version": version, "reason": reason, "kind": kind,
                        "reasons": reasons or [reason]})
        return StyleResult(draft, version, reason, kind)


RUNTIME = StyleRuntime()


def apply_style(*, enabled: bool, db: Database, draft: str, question: str,
                passages: list[str], channel: Any) -> StyleResult:
    """The draft reshaped by the active style model, or the draft itself (see StyleResult)."""
    return RUNTIME.apply(enabled=enabled, db=db, draft=draft, question=question,
                         passages=passages, channel=channel)
