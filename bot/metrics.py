"""Prometheus metrics, in one registry that ``/metrics`` serves.

The answering service, adapters, scheduler and ingestion import these objects and update
them; nothing here touches the network.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE  # noqa: N811 - re-exported
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

QUESTIONS = Counter("lorebot_questions", "Questions answered.", ["platform"], registry=REGISTRY)
ABSTENTIONS = Counter(
    "lorebot_abstentions", "Questions lorebot declined to answer from the docs.", ["platform"],
    registry=REGISTRY,
)
ANSWER_LATENCY = Histogram(
    "lorebot_answer_latency_seconds", "Time spent per answering stage.", ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
VOTES = Counter("lorebot_votes", "Votes on answers.", ["value"], registry=REGISTRY)
INGEST_RUNS = Counter(
    "lorebot_ingest_runs", "Ingest runs finished, by trigger and status.", ["trigger", "status"],
    registry=REGISTRY,
)
INGEST_FAILURES = Counter(
    "lorebot_ingest_failures", "Ingest runs that failed or crashed.", ["source"],
    registry=REGISTRY,
)
SCHEDULER_LAG = Histogram(
    "lorebot_scheduler_lag_seconds", "How late scheduled jobs started.",
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600), registry=REGISTRY,
)
SCHEDULED_SKIPS = Counter(
    "lorebot_scheduled_skips", "Scheduled ingests skipped because another replica ran them.",
    ["reason"], registry=REGISTRY,
)
STYLE_REJECTIONS = Counter(
    "lorebot_style_rejections", "Style rewrites rejected by the guard (draft sent).", ["reason"],
    registry=REGISTRY,
)
READY = Gauge("lorebot_ready", "1 when /readyz passes.", registry=REGISTRY)


def observe_answer(*, platform: str, abstained: bool, timings_ms: dict[str, float]) -> None:
    """Count one answer and its per-stage latency (``Answer.timings_ms``)."""
    QUESTIONS.labels(platform=platform).inc()
    if abstained:
        ABSTENTIONS.labels(platform=platform).inc()
    for stage, ms in timings_ms.items():
        ANSWER_LATENCY.labels(stage=stage).observe(max(0.0, float(ms)) / 1000.0)


def count_ingest(*, trigger: str, status: str, source: str) -> None:
    INGEST_RUNS.labels(trigger=trigger, status=status).inc()
    if status == "failed":
        INGEST_FAILURES.labels(source=source).inc()


def render() -> bytes:
    return generate_latest(REGISTRY)


__all__ = [
    "ABSTENTIONS", "ANSWER_LATENCY", "CONTENT_TYPE", "INGEST_FAILURES", "INGEST_RUNS",
    "QUESTIONS", "READY", "REGISTRY", "SCHEDULED_SKIPS", "SCHEDULER_LAG", "STYLE_REJECTIONS", "VOTES",
    "count_ingest", "observe_answer", "render",
]
