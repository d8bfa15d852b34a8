"""The response-style model: dataset, training, evaluation, registry and runtime."""

import os

# See knowledge/__init__.py: torch's spinning OpenMP threads starve a Postgres on the same cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
