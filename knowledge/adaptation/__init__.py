"""Adapting the embedding model to a team's own vocabulary, and keeping its vectors small.

``pairs`` builds (question, relevant passage, hard negatives) from votes or a labelled BEIR
folder; ``train`` fine-tunes the encoder contrastively; ``reduce`` shrinks vectors (halfvec,
PCA, truncation); ``switch`` re-embeds the corpus into a new vector space in the background and
switches retrieval over atomically. A model or reduction is adopted only if it does at least
as well as the current one on held-out questions (``gate``).
"""
