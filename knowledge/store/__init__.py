"""The Postgres/pgvector store: chunk writes, the embedding cache, model metadata, search SQL.

Modules are imported directly (``knowledge.store.writer``, ``knowledge.store.search``...);
this package imports nothing itself so each stays cheap to load.
"""
