"""Migration 0010's tables are the ones slack_sdk's SQLAlchemy stores expect: proven by
comparing them with the stores' own table definitions and by running the real stores."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, create_engine, text

from adapters.slack.installation import SignedStateStore
from bot.db import migrate

pytestmark = pytest.mark.db

TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}


def _install(team: str, token: str, **kw: object) -> Installation:
    return Installation(app_id="A1", team_id=team, team_name=f"team {team}", bot_token=token,
                        bot_id=f"B{team}", bot_user_id=f"U{team}", bot_scopes="chat:write,commands",
                        user_id="UINSTALLER", **kw)


def test_migrated_tables_equal_the_stores_own_definitions(db_url: str) -> None:
    engine = create_engine(db_url)
    store = SQLAlchemyInstallationStore(client_id="111.222", engine=engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=60, engine=engine)
    expected = MetaData()
    for table in [*store.metadata.tables.values(), *states.metadata.tables.values()]:
        table.to_metadata(expected)
    assert set(expected.tables) == TABLES
    with engine.connect() as conn:
        # Compare only Slack's tables (lorebot's own are covered by test_migrations).
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_name": lambda name, kind, parents: kind != "table" or name in TABLES})
        diff = compare_metadata(ctx, expected)
    engine.dispose()
    assert diff == []


def test_the_real_stores_work_on_the_migrated_tables(db_url: str) -> None:
    engine = create_engine(db_url)
    store = SQLAlchemyInstallationStore(client_id="111.222", engine=engine)
    other_app = SQLAlchemyInstallationStore(client_id="999.999", engine=engine)
    store.save(_install("T1", "xoxb-t1"))
    store.save(_install("T2", "xoxb-t2", bot_token_expires_in=3600, is_enterprise_install=False))
    assert store.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-t1"
    t2 = store.find_installation(enterprise_id=None, team_id="T2")
    assert t2.bot_token == "xoxb-t2" and isinstance(t2.bot_token_expires_at, int)
    assert other_app.find_bot(enterprise_id=None, team_id="T1") is None  # keyed by client id
    # A re-install replaces the token (newest row wins).
    time.sleep(1.1)  # installed_at has second resolution in the stores' lookups
    store.save(_install("T1", "xoxb-t1-new"))
    assert store.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-t1-new"
    store.delete_all(enterprise_id=None, team_id="T1")
    assert store.find_bot(enterprise_id=None, team_id="T1") is None
    assert store.find_bot(enterprise_id=None, team_id="T2").bot_token == "xoxb-t2"
    with engine.connect() as conn:
        installed_at = conn.execute(text("SELECT installed_at FROM slack_bots")).scalar_one()
    assert isinstance(installed_at, datetime) and installed_at.tzinfo is None  # naive UTC, as written

    states = SignedStateStore(SQLAlchemyOAuthStateStore(expiration_seconds=60, engine=engine), "s3cret")
    state = states.issue()
    raw, _, signature = state.rpartition(".")
    assert not states.consume(f"{raw}.{'0' * len(signature)}")  # forged signature: refused
    assert states.consume(state)
    assert not states.consume(state)  # once only
    expired = SignedStateStore(SQLAlchemyOAuthStateStore(expiration_seconds=-1, engine=engine), "s3cret")
    assert not expired.consume(expired.issue())
    unsigned = SQLAlchemyOAuthStateStore(expiration_seconds=60, engine=engine).issue()
    assert not states.consume(unsigned)  # a state not issued through the signing store
    engine.dispose()


def test_downgrade_removes_only_the_oauth_tables(fresh_db_url: str) -> None:
    migrate.upgrade(fresh_db_url, embedding_dim=3)
    engine = create_engine(fresh_db_url)
    assert set(migrate.table_names(engine)) >= TABLES
    migrate.downgrade(fresh_db_url, embedding_dim=3, revision="0004")
    remaining = set(migrate.table_names(engine))
    assert not TABLES & remaining and {"interactions", "channel_scopes"} <= remaining
    migrate.upgrade(fresh_db_url, embedding_dim=3)
    assert set(migrate.table_names(engine)) >= TABLES
    engine.dispose()
