"""The Home tab as Block Kit, from :class:`bot.home.HomeData`. Pure: data in, a view dict out.

Built with slack_sdk's own block classes, whose ``to_dict()`` checks Slack's limits (text
lengths, button values), so a view that Slack would refuse fails here, in a test, instead.
Buttons carry the admin command they run; the listener hands it to the same router ``/lore
admin`` uses, which checks again that the person pressing it is an admin.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from adapters.slack.render import humanize_age
from bot.types import AdminHome, HomeData, SourceInfo

HOME_REINDEX = "lorebot_home_reindex"  # value: the source's name
HOME_GAPS = "lorebot_home_gaps"
MAX_BLOCKS = 100  # Slack's limit for a Home tab
MAX_SOURCES_LISTED = 40
MAX_FAILING_SHOWN = 10
TEXT_LIMIT = 3000

HOW_TO_ASK = (
    "*Ask me anything about your team's docs.*\n"
    "• Mention me in a channel: `@lorebot how do I deploy?` (I answer in the thread)\n"
    "• Send me a direct message in the *Messages* tab\n"
    "• Use `/lore your question` anywhere (only you see the answer until you share it)\n"
    "• On any message: *More actions* (⋯) → *Ask lorebot about this*\n"
    "Every answer lists its sources; 👍 / 👎 on an answer tells the admins how I did."
)


def _cut(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _synced(source: SourceInfo, now: datetime) -> str:
    return f"synced {humanize_age(source.last_synced, now)}" if source.last_synced else "never synced"


def _knowledge(data: HomeData) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="What I know")]
    if not data.sources:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text="Nothing yet: an admin adds sources with `/lore admin sources add`.")))
        return blocks
    listed = 0
    for coll in data.collections:
        members = [s for s in data.sources if s.collection == coll.name]
        if not members or listed >= MAX_SOURCES_LISTED:
            continue
        shown = members[: MAX_SOURCES_LISTED - listed]
        listed += len(shown)
        title = f"*{coll.name}*" + (" (default)" if coll.name == data.default_collection else "")
        if coll.description:
            title += f" — {coll.description}"
        lines = [f"• {s.name} ({s.kind}), {_synced(s, data.generated_at)}" for s in shown]
        if len(members) > len(shown):
            lines.append(f"• … and {len(members) - len(shown)} more")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_cut("\n".join([title, *lines])))))
    if len(data.sources) > listed:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"{len(data.sources) - listed} more sources not listed here.")]))
    return blocks


def _admin(admin: AdminHome) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), HeaderBlock(text="For admins")]
    votes = admin.up + admin.down
    satisfaction = (f"{admin.satisfaction:.0%} 👍 of {votes} votes" if admin.satisfaction is not None
                    else "no votes yet")
    blocks.append(SectionBlock(text=MarkdownTextObject(text=(
        f"*This week:* {admin.questions} questions, {admin.abstained} not answered, "
        f"satisfaction {satisfaction}."))))
    if admin.failing:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Sources that need attention*")))
        for i, src in enumerate(admin.failing[:MAX_FAILING_SHOWN]):
            error = f"\n`{_cut(src.last_error, 300)}`" if src.last_error else ""
            blocks.append(SectionBlock(
                block_id=f"lorebot_home_failing_{i}",
                text=MarkdownTextObject(text=_cut(f"*{src.name}*: {src.status}{error}")),
                accessory=ButtonElement(text="Reindex", action_id=HOME_REINDEX, value=src.name[:2000])))
        if len(admin.failing) > MAX_FAILING_SHOWN:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(
                text=f"… and {len(admin.failing) - MAX_FAILING_SHOWN} more: `/lore admin sources list`")]))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="Every source synced fine on its last run.")))
    if admin.gaps:
        lines = [f"*Knowledge gaps this week* ({admin.gap_count} questions):"]
        for gap in admin.gaps:
            why = "not answered" if gap.abstained else f"{gap.downvotes} 👎"
            lines.append(f"• {_cut(gap.question, 200)} _({why})_")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_cut("\n".join(lines)))))
        blocks.append(ActionsBlock(block_id="lorebot_home_gaps", elements=[
            ButtonElement(text="Group the gaps", action_id=HOME_GAPS, value="gaps --days 7")]))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text="No knowledge gaps this week: nothing abstained on or voted 👎.")))
    return blocks


def home_view(data: HomeData) -> dict[str, Any]:
    """The ``views.publish`` view for one person (admins get the extra section)."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=HOW_TO_ASK)), DividerBlock()]
    blocks += _knowledge(data)
    if data.admin is not None:
        blocks += _admin(data.admin)
    blocks = blocks[:MAX_BLOCKS]
    return View(type="home", blocks=blocks).to_dict()
