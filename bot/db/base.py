"""The declarative base lives in ``knowledge.store.base`` (one metadata for every table, so the
library's tables and the bot's share one Alembic history); re-exported for old imports."""

from knowledge.store.base import NAMING_CONVENTION, Base, Timestamped

__all__ = ["NAMING_CONVENTION", "Base", "Timestamped"]
