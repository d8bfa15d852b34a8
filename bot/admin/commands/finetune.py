"""``finetune train | status | list | activate VERSION | rollback``, wired to ``finetune.api``."""

from __future__ import annotations

import argparse
from types import ModuleType

from bot.admin.context import CommandContext
from bot.admin.registry import CommandSpec

NOT_INSTALLED = "fine-tuning is not installed (the finetune package or its extras are missing)"


def _api() -> ModuleType:
    try:
        # Imported on use: training needs torch/peft/trl, an optional extra.
        from bot import style

        return style
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in {"finetune", "peft", "trl", "torch"}:
            raise LookupError(NOT_INSTALLED) from exc
        raise


def _train(ctx: CommandContext, args: argparse.Namespace) -> str:
    api = _api()
    settings, db, notify = ctx.settings, ctx.db, ctx.notify

    def work() -> str:
        # train() reports its stages and its full result through notify itself.
        result = api.train(settings=settings, db=db, notify=notify)
        version = getattr(result, "version", None)
        state = "active" if getattr(result, "promoted", False) else "kept as a candidate"
        return f"finetune train finished: {version} {state}" if version else "finetune train finished"

    return ctx.start("finetune train", work)


def _status(ctx: CommandContext, args: argparse.Namespace) -> str:
    from bot.style_report import rejection_summary

    return f"{_api().status(settings=ctx.settings, db=ctx.db)}\n{rejection_summary(db=ctx.db)}"


def _list(ctx: CommandContext, args: argparse.Namespace) -> str:
    versions = _api().list_versions(db=ctx.db)
    if not versions:
        return "no style model versions yet; run `finetune train`"
    return "\n".join(_version_line(v) for v in versions)


def _version_line(v: object) -> str:
    if not isinstance(v, dict):
        return str(v)
    rouge = v.get("rouge_l")
    base = v.get("baseline_rouge_l")
    score = f"ROUGE-L {rouge:.3f}" if isinstance(rouge, float) else "not evaluated"
    if isinstance(base, float):
        score += f" (drafts {base:.3f})"
    created = str(v.get("created_at") or "")[:16].replace("T", " ")
    return f"{v.get('version')} [{v.get('status')}] {score}, created {created}"


def _activate(ctx: CommandContext, args: argparse.Namespace) -> str:
    result = _api().activate(db=ctx.db, version=args.version)
    return str(result) if result else f"style model {args.version} is now active"


def _rollback(ctx: CommandContext, args: argparse.Namespace) -> str:
    result = _api().rollback(db=ctx.db)
    return str(result) if result else "rolled back to the previous style model"


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(name="finetune train", usage="finetune train",
                    help="Train a new style model from the feedback (runs in the background).",
                    handler=_train, long_running=True),
        CommandSpec(name="finetune status", usage="finetune status",
                    help="The active style model and any training in progress.",
                    handler=_status, read_only=True),
        CommandSpec(name="finetune list", usage="finetune list",
                    help="Every style model version with its evaluation.",
                    handler=_list, read_only=True),
        CommandSpec(name="finetune activate", usage="finetune activate VERSION",
                    completes=("model_version",),
                    help="Serve answers with this style model version.",
                    handler=_activate, arguments=lambda p: p.add_argument("version")),
        CommandSpec(name="finetune rollback", usage="finetune rollback",
                    help="Go back to the previously active style model.",
                    handler=_rollback),
    ]
