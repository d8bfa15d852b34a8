"""The promotion gate: a new style model goes live only if it beats the drafts and the active
model by the margin, judged on what users would see (guard applied)."""

from __future__ import annotations

from finetune.registry import decide, new_version


def _metrics(effective: float, baseline: float, n: int = 10) -> dict:
    return {"n": n, "effective": {"rouge_l": effective}, "baseline": {"rouge_l": baseline},
            "model": {"rouge_l": effective + 0.2}}


def test_gate_promotes_only_a_clear_improvement() -> None:
    assert decide(_metrics(0.60, 0.50), active_score=None, margin=0.01).promote
    assert decide(_metrics(0.60, 0.50), active_score=0.55, margin=0.01).promote
    below_drafts = decide(_metrics(0.505, 0.50), active_score=None, margin=0.01)
    assert not below_drafts.promote and "drafts" in below_drafts.reason
    below_active = decide(_metrics(0.60, 0.50), active_score=0.595, margin=0.01)
    assert not below_active.promote and "active model" in below_active.reason
    assert not decide(_metrics(0.9, 0.1, n=0), active_score=None, margin=0.01).promote


def test_gate_ignores_raw_rewrites_the_guard_would_reject() -> None:
    # raw ROUGE-L is 0.2 higher, but what users see (effective) equals the drafts
    assert not decide(_metrics(0.50, 0.50), active_score=None, margin=0.01).promote


def test_versions_sort_by_time_and_do_not_collide() -> None:
    versions = {new_version() for _ in range(50)}
    assert len(versions) == 50 and all(v.startswith("style-") for v in versions)


def test_guard_rejections_are_counted_in_the_served_metrics() -> None:
    from bot import metrics
    from bot.style import count_rejection

    def value() -> float:
        return metrics.REGISTRY.get_sample_value(
            "lorebot_style_rejections_total",
            {"reason": "adds a number not in the draft or its sources"}) or 0.0

    before = value()
    count_rejection("adds a number not in the draft or its sources: 42")
    count_rejection("adds a number not in the draft or its sources: 7")
    assert value() == before + 2
    assert b"lorebot_style_rejections_total" in metrics.render()


def test_rejection_labels_do_not_grow_with_citation_numbers() -> None:
    from bot import metrics
    from bot.style import count_rejection

    before = metrics.REGISTRY.get_sample_value("lorebot_style_rejections_total",
                                               {"reason": "drops citation"}) or 0.0
    count_rejection("drops citation [2]")
    count_rejection("drops citation [5], [6]")
    assert metrics.REGISTRY.get_sample_value("lorebot_style_rejections_total",
                                             {"reason": "drops citation"}) == before + 2
