"""The whole style-model loop on a real database: votes -> dataset -> training -> registry ->
runtime -> rollback, plus the bad inputs (no feedback, missing base, corrupted model folder)."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from bot import style as api
from bot.db import training as records
from bot.db.feedback import add_correction, upsert_vote
from bot.db.interactions import save_interaction
from bot.db.models import Interaction
from bot.style import apply_style
from bot.types import Actor, ChannelRef
from finetune.dataset import split_for, write_jsonl
from finetune.runtime import RUNTIME, StyleRuntime

NS = uuid.UUID("6f1c2b1e-0000-4000-8000-000000000008")
TOPICS = [
    ("deploy", "run make deploy from the ops repository"),
    ("rotate keys", "open the vault console and press rotate"),
    ("request leave", "fill in the leave form on the intranet"),
    ("reset a password", "use the self service portal with your badge"),
    ("book a room", "pick a free slot in the calendar of the floor"),
    ("expense a taxi", "attach the receipt in the finance tool"),
    ("join on call", "ask your lead to add you to the rotation"),
    ("restart the queue", "drain the workers then restart the broker"),
    ("get a laptop", "file a hardware ticket with the help desk"),
    ("find the style guide", "read the writing page in the handbook"),
    ("add a dashboard", "clone the template board in the metrics tool"),
    ("archive a channel", "ask a workspace owner to archive it"),
    ("order swag", "use the form in the people space"),
    ("update the changelog", "add a line under the unreleased heading"),
    ("tag a release", "create an annotated tag on the main branch"),
    ("invite a guest", "send the guest form to the security team"),
    ("clear the cache", "call the purge endpoint from the admin page"),
    ("review a design", "post the document in the design review thread"),
    ("change my shift", "swap with a colleague and tell the coordinator"),
    ("report a bug", "open an issue with the steps to reproduce"),
]
ADMIN = Actor(platform="cli", user_id="admin")


def _iid(n: int) -> uuid.UUID:
    return uuid.uuid5(NS, f"interaction-{n}")


def _insert(database, settings, n: int, *, question: str, draft: str, votes: list[int],
            correction: str | None = None) -> uuid.UUID:
    with database.session() as s:
        row = save_interaction(session=s, settings=settings, asker=Actor("cli", f"u{n}"),
                               platform="cli", channel="c", thread=None, question=question,
                               answer=draft, draft_answer=draft,
                               cited=[{"marker": 1, "title": "Handbook", "snippet": draft}])
        row.id = _iid(n)  # a fixed id gives a fixed split, so the test is deterministic
        s.flush()
        for i, value in enumerate(votes):
            upsert_vote(session=s, interaction_id=row.id, user_hash=f"voter{i}", value=value,
                        signal="reaction")
        if correction is not None:
            add_correction(session=s, interaction_id=row.id, user_hash="admin", text=correction)
        return row.id


def _seed(database, settings, start: int = 0, count: int = len(TOPICS) * 2) -> None:
    """Approved answers in the team's style ("Short answer: ...") and a few 👎 ones."""
    for n in range(start, start + count):
        topic, how = TOPICS[n % len(TOPICS)]
        variant = "the team" if n < len(TOPICS) else "a newcomer"
        question = f"How does {variant} {topic}?"
        draft = f"To {topic}, {how} [1]."
        if n % 7 == 3:
            _insert(database, settings, n, question=question, draft=draft, votes=[-1, -1, 1])
        elif n % 5 == 0:
            _insert(database, settings, n, question=question, draft=draft, votes=[],
                    correction=f"Short answer: {how} [1]. That is how {variant} does it.")
        else:
            _insert(database, settings, n, question=question, draft=draft, votes=[1, 1, -1])


@pytest.fixture(autouse=True)
def _fresh_runtime():
    RUNTIME.invalidate()
    RUNTIME._models.clear()
    yield
    RUNTIME.invalidate()
    RUNTIME._models.clear()


def test_no_feedback_gives_a_clear_error_and_registers_nothing(settings, database) -> None:
    _insert(database, settings, 1, question="How do I deploy?", draft="Run make deploy [1].",
            votes=[])
    with pytest.raises(api.NoTrainingData, match="no feedback to learn from yet"):
        api.train(settings=settings, db=database, max_steps=2)
    assert api.list_versions(db=database) == []
    assert not (settings.lorebot_data_dir / "models" / "style").exists() or not any(
        p for p in (settings.lorebot_data_dir / "models" / "style").iterdir()
        if not p.name.startswith("."))


def test_dataset_labels_majority_corrections_and_stable_splits(settings, database, tmp_path) -> None:
    _seed(database, settings, 0, 20)
    first = api.build_dataset(settings=settings, db=database)
    by_id = {e.id: e for e in first.examples}
    assert len(by_id) == 20
    corrected = by_id[str(_iid(5))]
    assert corrected.label == "good" and corrected.weight == 3
    assert corrected.target.startswith("Short answer:")
    assert by_id[str(_iid(3))].label == "bad"  # two 👎 beat one 👍
    assert by_id[str(_iid(1))].label == "good" and by_id[str(_iid(1))].weight == 1
    assert all(e.split == split_for(e.id) for e in first.examples)

    _seed(database, settings, 20, 20)  # more feedback arrives
    second = api.build_dataset(settings=settings, db=database)
    assert len(second.examples) == 40
    for e in second.examples:
        if e.id in by_id:
            assert e.split == by_id[e.id].split

    paths = write_jsonl(second, tmp_path / "ds")
    rows = [json.loads(line) for line in paths["train"].read_text().splitlines()]
    assert rows and all(r["split"] == "train" and r["input"].startswith("question:") for r in rows)
    summary = json.loads(paths["report"].read_text())
    assert sum(c["good"] + c["bad"] for c in summary["splits"].values()) == 40


def test_missing_base_model_path_is_a_clear_error(settings, database) -> None:
    _seed(database, settings)
    with pytest.raises(ValueError, match="does not exist"):
        api.train(settings=settings, db=database, base=str(settings.lorebot_data_dir / "nope"),
                  max_steps=2)
    assert api.list_versions(db=database) == []


def test_train_register_activate_shape_rollback(settings, database) -> None:
    _seed(database, settings)
    report = api.build_dataset(settings=settings, db=database)
    assert report.split("test", "good") and report.split("validation", "good")

    result = api.train(settings=settings, db=database, epochs=2, max_steps=12, progress=False)
    versions = api.list_versions(db=database)
    assert [v["version"] for v in versions] == [result.version]
    assert result.plot.exists() and result.plot.stat().st_size > 1000
    assert result.plot.parent == settings.lorebot_data_dir / "models" / "style" / result.version
    m = result.metrics
    assert m["n"] == len(report.split("test", "good"))
    assert 0.0 <= m["model"]["guard_pass_rate"] <= 1.0
    assert m["baseline"]["rouge_l"] > 0 and m["training"]["steps"] >= 1
    assert m["training"]["eval_loss"], "validation ran during training"
    assert not any(p.name.startswith(".work") for p in result.path.parent.iterdir())
    # A toy model after a dozen steps cannot beat the drafts by the margin: the gate holds it.
    assert result.promoted is False and versions[0]["status"] == "candidate"

    draft = "To deploy, run make deploy from the ops repository [1]."
    channel = ChannelRef("cli", "c")
    plain = apply_style(settings=settings, db=database, draft=draft, question="q",
                        passages=[draft], channel=channel)
    assert plain.text == draft and plain.version is None and plain.rejected is None

    api.activate(db=database, version=result.version)
    shaped = apply_style(settings=settings, db=database, draft=draft,
                         question="How does the team deploy?", passages=[draft], channel=channel)
    assert shaped.version == result.version
    from finetune.model import Rewriter

    raw = Rewriter.load(result.path).rewrite("How does the team deploy?", draft)
    if shaped.rejected is None:
        assert shaped.text == raw  # the model's own rewrite went out
    else:
        assert shaped.text == draft  # the guard held it back and the draft went out
    with database.session() as s:
        active = records.active_style_model(session=s)
        assert active is not None and active.version == result.version

    message = api.rollback(db=database)
    assert "no style model is active" in message
    after = apply_style(settings=settings, db=database, draft=draft, question="q",
                        passages=[draft], channel=channel)
    assert after.version is None and after.text == draft
    assert api.status(settings=settings, db=database).startswith("no style model is active")


class _Suffix:
    def __init__(self, suffix: str) -> None:
        self.suffix = suffix

    def rewrite(self, question: str, draft: str) -> str:
        return draft + self.suffix


def _register(database, tmp_path: Path, version: str) -> Path:
    path = tmp_path / version
    path.mkdir()
    with database.session() as s:
        records.add_style_model(session=s, version=version, base_model="test", path=str(path),
                                metrics={"effective": {"rouge_l": 0.5}})
    return path


def test_runtime_uses_a_passing_rewrite_and_rejects_a_failing_one(settings, database,
                                                                  tmp_path) -> None:
    _register(database, tmp_path, "v-good")
    _register(database, tmp_path, "v-bad")
    loaded = {"v-good": _Suffix(" Hope this helps!"), "v-bad": _Suffix(" Call Bob at 555.")}
    runtime = StyleRuntime(loader=lambda path: loaded[path.name], refresh_s=0)
    draft = "Deploys run from the ops repository [1]."
    kwargs = dict(enabled=settings.style_model_enabled, db=database, draft=draft, question="How?",
                  passages=["ops repository"], channel=ChannelRef("slack", "C1"))

    api.activate(db=database, version="v-good")
    res = runtime.apply(**kwargs)
    assert (res.text, res.version, res.rejected) == (draft + " Hope this helps!", "v-good", None)

    api.activate(db=database, version="v-bad")
    res = runtime.apply(**kwargs)
    assert res.text == draft and res.version == "v-bad"
    # "Call Bob at 555." restates nothing in the draft: the reason names that kind of change.
    assert res.rejected is not None and res.rejected.startswith("unsupported: ")
    assert res.kind == "unsupported"
    assert runtime.rejections == 1

    assert "v-good is active again" in api.rollback(db=database)
    assert runtime.apply(**kwargs).text == draft + " Hope this helps!"


def test_runtime_rechecks_the_registry_only_every_few_seconds(settings, database, tmp_path) -> None:
    _register(database, tmp_path, "v1")
    now = [100.0]
    runtime = StyleRuntime(loader=lambda path: _Suffix(" Thanks."), refresh_s=3.0,
                           clock=lambda: now[0])
    kwargs = dict(enabled=settings.style_model_enabled, db=database, draft="Use the form [1].", question="q",
                  passages=[], channel=None)
    assert runtime.apply(**kwargs).version is None  # nothing active yet; now cached
    with database.session() as s:
        records.activate_style_model(session=s, version="v1")  # another process activates
    assert runtime.apply(**kwargs).version is None  # still within the refresh window
    now[0] += 3.5
    assert runtime.apply(**kwargs).version == "v1"


def test_corrupted_model_folder_falls_back_to_the_draft(settings, database) -> None:
    _seed(database, settings)
    result = api.train(settings=settings, db=database, max_steps=2, progress=False)
    api.activate(db=database, version=result.version)
    weights = [p for p in result.path.iterdir() if p.suffix == ".safetensors"]
    assert weights
    for p in weights:
        p.write_bytes(b"not a model")
    draft = "To deploy, run make deploy from the ops repository [1]."
    res = apply_style(settings=settings, db=database, draft=draft, question="q", passages=[],
                      channel=None)
    assert res.text == draft and res.version == result.version
    assert res.rejected is not None and res.rejected.startswith("model failed to load:")

    shutil.rmtree(result.path)
    with pytest.raises(ValueError, match="has no files"):
        api.activate(db=database, version=result.version)


def test_maybe_retrain_waits_for_enough_new_feedback(settings, database) -> None:
    _seed(database, settings)
    waiting = settings.model_copy(update={"style_retrain_min_examples": 1000})
    assert api.maybe_retrain(settings=waiting, db=database) is None
    assert api.list_versions(db=database) == []
    with database.session() as s:
        assert records.count_labelled_since(session=s, since=None) == len(TOPICS) * 2

    due = settings.model_copy(update={"style_retrain_min_examples": 5})
    first = api.maybe_retrain(settings=due, db=database)
    assert first is not None and [v["version"] for v in api.list_versions(db=database)] == [
        first.version]
    # Nothing new since that model: no second training.
    assert api.maybe_retrain(settings=due, db=database) is None
    with database.session() as s:
        upsert_vote(session=s, interaction_id=_iid(1), user_hash="late-voter", value=1,
                    signal="reaction")
        assert records.count_labelled_since(
            session=s, since=records.latest_style_model(session=s).created_at) == 1
        assert s.get(Interaction, _iid(1)) is not None


def _tiny_gpt2(folder: Path) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from finetune.model import train_tokenizer

    texts = [f"question: How does the team {t}?\ndraft: To {t}, {h} [1].\nanswer: Short answer: "
             f"{h} [1]." for t, h in TOPICS]
    tokenizer = train_tokenizer(texts, vocab_size=600)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_layer=2, n_embd=64, n_head=2,
                                       n_positions=512, pad_token_id=0, eos_token_id=1,
                                       bos_token_id=1))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_causal_base_trains_with_lora_and_a_kto_pass(settings, database, tmp_path) -> None:
    _seed(database, settings)
    base = _tiny_gpt2(tmp_path / "gpt2-tiny")
    s = settings.model_copy(update={"style_kto_min_negatives": 1})
    notes: list[str] = []
    result = api.train(settings=s, db=database, base=str(base), max_steps=4, progress=False,
                       notify=notes.append)
    t = result.metrics["training"]
    assert t["kind"] == "causal" and t["lora"] is True and t["kto"] == "used"
    assert any("KTO" in n for n in notes)
    # The LoRA weights were merged: the saved folder loads as a plain model, without peft.
    assert not (result.path / "adapter_config.json").exists()
    from finetune.model import Rewriter

    out = Rewriter.load(result.path).rewrite("How does the team deploy?", "To deploy, run it [1].")
    assert isinstance(out, str)


def test_a_failed_load_is_reported_until_the_folder_is_repaired(settings, database,
                                                                tmp_path) -> None:
    _register(database, tmp_path, "v1")
    api.activate(db=database, version="v1")
    calls = []

    def loader(path: Path) -> _Suffix:
        calls.append(path)
        if len(calls) == 1:
            raise OSError("config.json is truncated")
        return _Suffix(" Thanks.")

    runtime = StyleRuntime(loader=loader, refresh_s=0)
    kwargs = dict(enabled=settings.style_model_enabled, db=database, draft="Use the form [1].", question="q",
                  passages=[], channel=None)
    for _ in range(2):  # the broken folder is not re-read on every answer
        res = runtime.apply(**kwargs)
        assert res.text == "Use the form [1]." and res.version == "v1"
        assert res.rejected == "model failed to load: config.json is truncated"
    assert len(calls) == 1
    runtime.invalidate()  # what activate/rollback do after an admin repairs the model
    assert runtime.apply(**kwargs).text == "Use the form [1]. Thanks."
