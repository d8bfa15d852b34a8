"""Every setting lorebot reads, in one pydantic-settings class.

Field names are the environment variable names in lower case, so ``SLACK_BOT_TOKEN`` in the
environment or in ``.env`` sets ``settings.slack_bot_token``. Which ``.env``: the file named by
LOREBOT_ENV_FILE (``none`` for no file), else ``.env`` in the directory lorebot starts in, kept for
compatibility; a service should set LOREBOT_ENV_FILE so the working directory does not matter.
Nothing is built at import: call :func:`get_settings` (cached) or :func:`load_settings` (fresh,
for tests and tools).
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Annotated, Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from knowledge.errors import ConfigError as _LibraryConfigError

_PLACEHOLDER = re.compile(r"(replace|change[-_ ]?me|your[-_]|example|placeholder|xxxx|\.\.\.)", re.I)


# One class for the bot and the libraries: a library's configuration error (knowledge/finetune
# never import the bot) is caught wherever the bot catches its own.
ConfigError = _LibraryConfigError

# Published in lorebot's own code and docs: asker hashes made with these are reversible by anyone.
PUBLIC_SALTS = frozenset({"lorebot-default-salt", "REPLACE-ME-with-a-random-string"})


def is_placeholder(value: str) -> bool:
    """A value copied from ``.env.example`` or the docs rather than a real secret."""
    return value.strip() in PUBLIC_SALTS or bool(_PLACEHOLDER.search(value))


PUBLIC_SALT_ERROR = (
    "ASKER_HASH_SALT holds a public placeholder value, so askers could be re-identified; set a long "
    "random value (e.g. `openssl rand -hex 32`) or unset it to have lorebot generate one into the "
    "data folder"
)


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in re.split(r"[,\s]+", value) if item.strip()]
    return value


def normalise_database_url(url: str) -> str:
    """Make any Postgres URL use the psycopg 3 driver, the only one lorebot ships."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://", "postgresql+asyncpg://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if not url.startswith("postgresql+psycopg://"):
        raise ConfigError(
            "DATABASE_URL must be a PostgreSQL URL such as "
            "postgresql://user:password@host:5432/lorebot; unset it to use the embedded server"
        )
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # --- where settings come from (read before the rest; here so it is documented and shown) ---
    lorebot_env_file: str | None = None

    # --- storage ---
    database_url: SecretStr | None = None
    lorebot_data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("lorebot")))

    # --- logging / serving ---
    lorebot_log_level: str = "INFO"
    lorebot_log_format: Literal["auto", "json", "text"] = "auto"
    lorebot_http_host: str = "0.0.0.0"  # noqa: S104 - the HTTP endpoint must be reachable by Slack
    lorebot_http_port: int = 3000
    # /metrics (with /healthz, /readyz) on their own port and address; unset: on LOREBOT_HTTP_PORT
    lorebot_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    lorebot_metrics_host: str | None = None  # default: LOREBOT_HTTP_HOST
    lorebot_shutdown_timeout_s: float = 20.0

    # --- embeddings ---
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_batch_size: int = 32
    embedding_precision: Literal["auto", "fp32", "bf16"] = "auto"
    embedding_max_tokens: int = 256
    embedding_runtime: Literal["auto", "torch", "onnx"] = "auto"
    # Smaller vectors, applied by `lorebot embeddings reduce` (gated) and measured side by side
    # by `lorebot eval retrieval`: storage type, and dimensions kept (0: all) by PCA/truncation.
    embedding_storage: Literal["vector", "halfvec"] = "vector"
    embedding_dimensions: int = Field(default=0, ge=0, le=16000)
    embedding_reduction: Literal["pca", "truncate"] = "pca"

    # --- ingestion ---
    chunk_size_tokens: int = 200
    chunk_overlap_tokens: int = 30
    ingest_max_file_mb: float = 20.0
    ingest_http_timeout_s: float = 15.0
    ingest_max_pages: int = 500
    ingest_user_agent: str = "lorebot/0.1 (+https://github.com/lorebot/lorebot)"
    # Web sources refuse private/loopback/link-local/metadata addresses; these hosts are allowed
    # anyway (globs such as wiki.corp or *.internal, addresses or networks such as 10.0.0.0/8).
    web_allowed_private_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    redact_emails: bool = True
    redact_phones: bool = True

    # --- retrieval ---
    default_collection: str = "default"
    retrieval_top_k: int = 5
    retrieval_candidates: int = 50
    retrieval_ef_search: int = 400
    rrf_k: int = 60
    rrf_vector_weight: float = 1.0
    rrf_keyword_weight: float = 1.0
    # How the vector and keyword arms are fused: rank-based (rrf) or a weighted sum of each
    # arm's scores normalised over its candidates (minmax, zscore; weights FUSION_*_WEIGHT).
    # zscore with the keyword arm at 1.25: tuned on half of the SciFact train claims, it beat
    # RRF on the other half by +0.016 nDCG@10 (0.739 vs 0.723; benchmarks/RETRIEVAL.md).
    fusion_method: Literal["rrf", "minmax", "zscore"] = "zscore"
    fusion_vector_weight: float = Field(default=1.0, ge=0)
    fusion_keyword_weight: float = Field(default=1.25, ge=0)
    keyword_max_doc_freq: float = 0.2
    keyword_max_terms: int = 12
    reranker_model: str | None = None
    # 0.45 was calibrated on SciFact (benchmarks/RETRIEVAL.md); benchmarks/calibrate_answers.py
    # (squad2-dev, tuned on one article, with off-topic questions) found the sentence-level
    # ANSWER_MIN_SUPPORT abstains on every off-topic question by itself and this one only cost
    # answerable questions, so it chose 0.0 (benchmarks/ANSWERS.md).
    abstain_threshold: float = 0.0

    # --- answering ---
    llm_provider: Literal["extractive", "openai", "openai_compatible", "ollama", "local"] = (
        "extractive"
    )
    llm_model: str = "gpt-4o-mini"
    llm_api_base: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = 60.0
    # 2 and 1.5: chosen on squad2-dev's "Normans" article (max hit s.t. median <= 40 words,
    # false-abstain <= 0.08; benchmarks/sweep_answer_margin.py, benchmarks/ANSWERS.md): a wider
    # margin lets the second sentence in when it holds the answer the lead only points at; a
    # third added words but no hits.
    answer_max_sentences: int = 2
    # Extractive answers: abstain when even the best sentence scores below this (calibrated on
    # squad2-dev by article, benchmarks/calibrate_answers.py); add a 2nd sentence only when
    # it scores within ``answer_extra_margin`` of the best; at most ``answer_max_words`` words.
    answer_min_support: float = 0.377
    answer_extra_margin: float = 1.5
    answer_max_words: int = 80
    # The answer reader (knowledge/synthesis/reader.py): a small cross-encoder that reads the
    # question with each plausible sentence and decides which answers, and whether any does.
    # ``builtin`` ships with lorebot (trained offline, no download); ``off`` goes back to
    # sentence-embedding similarity (ANSWER_MIN_SUPPORT, ANSWER_EXTRA_MARGIN); or a folder
    # trained by benchmarks/train_answer_reader.py. Its own calibrated policy (reader.json)
    # sets how many sentences it reads and when it abstains; ANSWER_READER_MIN_SCORE overrides
    # the abstention threshold (lower: abstain less).
    answer_reader: str = "builtin"
    answer_reader_min_score: float | None = None
    # How many sentences the reader reads per answer (unset: its calibrated 6, the most whose
    # int8 passes fit synthesis p95 <= 30 ms on 2 cores; 8 cost p95 ~39 ms for ~2 points more
    # first-sentence hit; benchmarks/ANSWERS.md).
    answer_reader_candidates: int | None = Field(default=None, ge=1, le=32)
    # A sentence that says the opposite of a what/which/who question ("the largest" for "the
    # smallest", another number, a negated question against a text that negates nothing) does
    # not answer it (knowledge/synthesis/contradiction.py). Unset: the reader's policy (on);
    # false for a team whose questions it misreads.
    answer_contradictions: bool | None = None
    # unset: a random salt is generated into LOREBOT_DATA_DIR/asker_salt (bot/identity.py);
    # public values (the old default, the .env.example placeholder) are refused
    asker_hash_salt: SecretStr | None = None
    interaction_retention_days: int = 180

    # --- admin ---
    lorebot_admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # off by default: a Slack workspace admin or a Discord "Manage Server" member is not
    # automatically someone who may add sources or export feedback from the host
    trust_platform_admins: bool = False

    # --- what chat admins may do (the CLI on the host is the operator and is not limited) ---
    # Folders (and files, git checkouts) chat admins may add as sources: only under these roots.
    chat_source_folder_roots: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    # Web hosts chat admins may add (fnmatch patterns: wiki.example.com, *.example.com).
    chat_source_url_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Source kinds chat admins may add at all.
    chat_source_kinds: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["folder", "jsonl", "git", "web"]
    )
    # An ingest that would delete more than this share of a source's documents stops first.
    ingest_max_delete_fraction: float = Field(default=0.5, ge=0.0, le=1.0)

    # --- Slack ---
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str | None = None
    slack_thread_followups: Literal["always", "mention"] = "always"
    slack_answer_other_bots: bool = False
    slack_slash_ephemeral: bool = True
    slack_upvote_emoji: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["+1", "thumbsup", "white_check_mark"]
    )
    slack_downvote_emoji: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["-1", "thumbsdown"]
    )
    slack_seen_emoji: str = "eyes"
    # The agent pane's suggested prompts ("|"-separated); empty: the most-asked answered questions.
    slack_suggested_prompts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Stream answers into the thread as the LLM writes them (chat.startStream ...); the
    # extractive answer is always posted at once.
    slack_stream_answers: bool = True
    # Answers with code, lists or tables in a ``markdown`` block instead of mrkdwn sections.
    slack_markdown_blocks: bool = True
    # Slack's native feedback buttons (context_actions / feedback_buttons) on answers.
    slack_native_feedback: bool = True
    # OAuth (installs on many workspaces, HTTP mode): all three set turns it on; the bot token
    # then comes from each workspace's installation instead of SLACK_BOT_TOKEN.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_state_secret: SecretStr | None = None

    # --- rate limits (Slack and Discord) ---
    user_questions_per_minute: int = Field(default=0, ge=0)
    channel_questions_per_minute: int = Field(default=0, ge=0)

    # --- Discord ---
    discord_token: SecretStr | None = None
    discord_answer_mentions: bool = True
    discord_answer_dms: bool = True
    discord_upvote_emoji: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["\U0001f44d", "\u2705", "\u2b06\ufe0f"]  # thumbs up, check, up arrow
    )
    discord_downvote_emoji: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["\U0001f44e", "\u2b07\ufe0f"]  # thumbs down, down arrow
    )
    discord_sharded: bool = False
    discord_guild_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # Forum tag applied to a post when its asker votes 👍 on lorebot's answer (if the forum has
    # a tag by this name); empty: never tag.
    discord_forum_answered_tag: str = "answered"

    # --- style model (fine-tuning) ---
    style_model_enabled: bool = True
    style_retrain_min_examples: int = 50
    style_promotion_margin: float = 0.01
    style_base_model: str | None = None
    style_kto_min_negatives: int = 20

    @field_validator("database_url", mode="before")
    @classmethod
    def _normalise_url(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        return SecretStr(normalise_database_url(raw))

    @field_validator(
        "lorebot_admins", "slack_upvote_emoji", "slack_downvote_emoji", "discord_upvote_emoji",
        "discord_downvote_emoji", "discord_guild_ids", "web_allowed_private_hosts",
        "chat_source_url_hosts", "chat_source_kinds",
        mode="before",
    )
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("chat_source_folder_roots", mode="before")
    @classmethod
    def _roots(cls, value: object) -> object:
        # Comma separated only: a folder name may hold spaces.
        if isinstance(value, str):
            return [Path(item.strip()).expanduser() for item in value.split(",") if item.strip()]
        return value

    @field_validator("slack_suggested_prompts", mode="before")
    @classmethod
    def _prompts(cls, value: object) -> object:
        # Prompts are sentences with commas, so they are separated by "|".
        if isinstance(value, str):
            return [p.strip() for p in value.split("|") if p.strip()]
        return value

    @field_validator("lorebot_admins")
    @classmethod
    def _admins_have_platform(cls, value: list[str]) -> list[str]:
        for entry in value:
            if ":" not in entry:
                raise ValueError(
                    f"LOREBOT_ADMINS entry {entry!r} needs a platform prefix, e.g. slack:U123 "
                    "or discord:456"
                )
        return value

    @field_validator("asker_hash_salt", mode="before")
    @classmethod
    def _salt_not_public(cls, value: object) -> object:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None  # unset: generated into the data folder (bot/identity.py)
        if isinstance(raw, str) and is_placeholder(raw):
            raise ValueError(PUBLIC_SALT_ERROR)
        return value

    @field_validator("lorebot_data_dir", mode="before")
    @classmethod
    def _expand(cls, value: object) -> object:
        if isinstance(value, str) and value.strip():
            return Path(value).expanduser()
        return value

    @model_validator(mode="after")
    def _check_ranges(self) -> Settings:
        if self.chunk_overlap_tokens >= self.chunk_size_tokens:
            raise ValueError("CHUNK_OVERLAP_TOKENS must be smaller than CHUNK_SIZE_TOKENS")
        if self.retrieval_top_k < 1 or self.retrieval_candidates < self.retrieval_top_k:
            raise ValueError("RETRIEVAL_CANDIDATES must be >= RETRIEVAL_TOP_K >= 1")
        if not 0 < self.keyword_max_doc_freq <= 1 or self.keyword_max_terms < 1:
            raise ValueError("KEYWORD_MAX_DOC_FREQ must be in (0, 1] and KEYWORD_MAX_TERMS >= 1")
        if not 1 <= self.retrieval_ef_search <= 1000:
            raise ValueError("RETRIEVAL_EF_SEARCH must be between 1 and 1000")
        return self

    # --- helpers ---
    def secret(self, name: str) -> str:
        """The value of secret setting ``name``, refusing empty or placeholder values.

        Called when a real platform connection is started, so a copied ``.env.example``
        fails loudly instead of talking to Slack with ``xoxb-REPLACE-ME``.
        """
        value = getattr(self, name)
        env_name = name.upper()
        if value is None or not value.get_secret_value().strip():
            raise ConfigError(f"{env_name} is not set; add it to .env (see .env.example)")
        raw = value.get_secret_value()
        if _PLACEHOLDER.search(raw):
            raise ConfigError(f"{env_name} still holds a placeholder; put the real value in .env")
        return raw

    def has(self, name: str) -> bool:
        value = getattr(self, name)
        if isinstance(value, str):
            return bool(value.strip())
        return value is not None and bool(value.get_secret_value().strip())


def env_file() -> Path | None:
    """The dotenv file to read: LOREBOT_ENV_FILE (must exist; ``none``/empty: none), else ``./.env``."""
    raw = os.environ.get("LOREBOT_ENV_FILE")
    if raw is None:
        return Path(".env")  # relative to the working directory: the old behaviour
    if not raw.strip() or raw.strip().lower() == "none":
        return None
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise ConfigError(f"LOREBOT_ENV_FILE={raw} is not a file; point it at your .env (an absolute "
                          "path) or set it to none to read only the environment")
    return path


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment and the env file (:func:`env_file`); keyword
    overrides win (tests, tools; ``_env_file=None`` reads no file)."""
    if "_env_file" not in overrides:
        overrides["_env_file"] = env_file()
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(str(exc)) from exc


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
