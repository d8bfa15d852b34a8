"""Sources, cleaning, chunking, embeddings, the Postgres/pgvector store and retrieval."""

import os

# Torch's OpenMP threads spin for a while after each parallel region. On a small machine that
# also runs Postgres (the embedded server), a question's embedding then steals the cores its
# search needs: measured on 2 cores, hybrid search p95 78 ms after an embedding vs 33 ms with
# passive waiting, and batch embedding throughput unchanged. Must be set before torch loads;
# an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
