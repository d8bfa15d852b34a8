"""A ``lorebot serve``-like scheduler process for the multi-replica tests (not a test module).

    python tests/scheduler_replica.py replica DB_URL DATA_DIR START_AT SLOW_S
        start a Scheduler at wall-clock START_AT, wait for its first scheduled ingest, print
        the outcome as JSON
    python tests/scheduler_replica.py run DB_URL DATA_DIR SOURCE_ID NAME SCHEDULE SLOW_S MARKER
        run one scheduled ingest job directly (the kill test kills it mid-embedding)

The embedder is a deterministic hash embedder so that a process starts in a second instead
of loading a model; ``SLOW_S`` makes each embed call sleep (after touching ``MARKER``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DIM = 384


class HashEmbedder:
    """Same interface as knowledge.embeddings.Embedder, vectors from a hash of the text."""

    name = model_id = "test-hash-384"
    dimension = DIM

    def __init__(self, slow_s: float = 0.0, marker: str | None = None) -> None:
        self.slow_s = slow_s
        self.marker = marker

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def embed(self, texts: list[str], *, batch_size: int | None = None) -> np.ndarray:
        if self.marker:
            Path(self.marker).write_text(str(os.getpid()))
        if self.slow_s:
            time.sleep(self.slow_s)
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def _open(db_url: str, data_dir: str):  # noqa: ANN202 - test helper
    from bot.db.session import connect
    from bot.settings import load_settings

    settings = load_settings(_env_file=None, database_url=db_url, lorebot_data_dir=data_dir)
    return settings, connect(settings)


def replica(db_url: str, data_dir: str, start_at: float, slow_s: float) -> None:
    from bot.scheduler import Scheduler, wait_until

    settings, db = _open(db_url, data_dir)
    scheduler = Scheduler(settings=settings, db=db, embedder=HashEmbedder(slow_s), jitter=False)
    time.sleep(max(0.0, start_at - time.time()))
    scheduler.start()
    ok = wait_until(lambda: bool(scheduler.outcomes), timeout_s=60)
    finished = scheduler.shutdown(timeout_s=30)
    print(json.dumps({"outcomes": scheduler.outcomes, "fired": ok, "finished": finished}))
    db.dispose()


def run(db_url: str, data_dir: str, source_id: int, name: str, schedule: str, slow_s: float,
        marker: str) -> None:
    from bot.scheduler import Scheduler

    settings, db = _open(db_url, data_dir)
    scheduler = Scheduler(settings=settings, db=db, embedder=HashEmbedder(slow_s, marker))
    print(scheduler.run_source(source_id, name, schedule))


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode == "replica":
        replica(rest[0], rest[1], float(rest[2]), float(rest[3]))
    else:
        run(rest[0], rest[1], int(rest[2]), rest[3], rest[4], float(rest[5]), rest[6])
