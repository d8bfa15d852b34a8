"""How fast the Slack adapter acknowledges ``/lore`` while answers are slow, and how fast it renders.

Slack gives up on a command not acknowledged within 3 s. A burst of ``--commands`` signed
``/lore`` requests goes through the real bolt app (production wiring: ack first, answer after)
while each answer takes ``--answer-s`` seconds. Two arms, same run:

* ``deferred``: the adapter as shipped, answers on its own worker pool;
* ``on_listener_threads``: the answer run on bolt's listener threads (the naive wiring), which
  makes later commands wait for a free thread before they can even be acknowledged.

The baseline is a ``url_verification`` request (signature check and dispatch, no listener).
Also reported: Block Kit rendering time of a 12,000-character answer. No database is needed.

    python benchmarks/bench_slack_ack.py --commands 30 --answer-s 1.0
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk import WebClient  # noqa: E402

from adapters.slack import render  # noqa: E402
from adapters.slack.app import create_app  # noqa: E402
from adapters.slack.listeners import SlackListeners  # noqa: E402
from bot.core import LoreBot  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.types import Actor, Answer, ChannelRef  # noqa: E402
from tests.slack_harness import (  # noqa: E402
    BOT_TOKEN,
    FORM,
    JSON,
    SIGNING_SECRET,
    SlackStandIn,
    dispatch,
    slash_body,
)


class SlowAnswerer:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def answer(self, question: str, *, channel: ChannelRef, thread: str | None, asker: Actor) -> Answer:
        time.sleep(self.seconds)
        return Answer(text=f"An answer to {question} [1].", citations=[], abstained=False,
                      interaction_id=None)


def _pcts(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
            "max_ms": round(ordered[-1], 2)}


def _arm(stand_in: SlackStandIn, *, commands: int, answer_s: float, deferred: bool) -> dict[str, object]:
    settings = load_settings(_env_file=None, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                             slack_api_url=stand_in.api_url, slack_seen_emoji="")
    core = LoreBot(settings=settings, db=None, answerer=SlowAnswerer(answer_s))  # type: ignore[arg-type]
    listeners = SlackListeners(core, settings)
    app = create_app(core, settings, client=WebClient(token=BOT_TOKEN, base_url=stand_in.api_url),
                     listeners=listeners)
    if not deferred:
        listeners.defer = lambda fn, *a, **k: fn(*a, **k)  # type: ignore[method-assign]
    latencies, refused = [], 0
    for i in range(commands):
        body = slash_body(f"question {i}?", response_url=stand_in.response_url())
        started = time.perf_counter()
        resp = dispatch(app, body, content_type=FORM)
        latencies.append((time.perf_counter() - started) * 1000)
        refused += resp.status != 200
    listeners.close()
    return {**_pcts(latencies), "not_acknowledged": refused}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=30)
    parser.add_argument("--answer-s", type=float, default=1.0)
    args = parser.parse_args()
    with SlackStandIn() as stand_in:
        settings = load_settings(_env_file=None, slack_bot_token=BOT_TOKEN,
                                 slack_signing_secret=SIGNING_SECRET, slack_api_url=stand_in.api_url)
        app = create_app(LoreBot(settings=settings, db=None), settings,  # type: ignore[arg-type]
                         client=WebClient(token=BOT_TOKEN, base_url=stand_in.api_url))
        baseline = []
        for _ in range(args.commands):
            started = time.perf_counter()
            dispatch(app, json.dumps({"type": "url_verification", "challenge": "c"}), content_type=JSON)
            baseline.append((time.perf_counter() - started) * 1000)
        deferred = _arm(stand_in, commands=args.commands, answer_s=args.answer_s, deferred=True)
        naive = _arm(stand_in, commands=args.commands, answer_s=args.answer_s, deferred=False)
        # bolt's own threads may still be answering the naive arm's commands; let them finish.
        stand_in.wait_for(lambda: len(stand_in.responses()) >= 2 * args.commands,
                          timeout=args.commands * args.answer_s + 10)

    text = "\n\n".join(f"Paragraph {i}: " + "the service restarts cleanly [1] and logs [2]. " * 20
                       for i in range(13))
    answer = Answer(text=text, citations=[], abstained=False, interaction_id=None)
    render_ms = []
    for _ in range(50):
        started = time.perf_counter()
        render.render_answer(answer)
        render_ms.append((time.perf_counter() - started) * 1000)
    print(json.dumps({
        "commands": args.commands, "answer_s": args.answer_s,
        "baseline_url_verification": _pcts(baseline),
        "slash_ack_deferred": deferred,
        "slash_ack_on_listener_threads": naive,
        "render_answer_chars": len(text), "render": _pcts(render_ms),
    }, indent=2))


if __name__ == "__main__":
    main()
