"""The Discord surface of lorebot: ``/ask``, the "Ask lorebot" message menu, the ``/lore``
admin group (with autocompletion), mentions (of the bot or its role), threads, answered forum
posts, DMs, streamed drafts and reaction votes.

Every call into the core goes through ``asyncio.to_thread``:
the core is synchronous and talks to Postgres and models, and a blocked event loop would miss
Discord's heartbeats. Handlers never let an exception escape to discord.py: people get a short
reply with a reference id and the traceback goes to the log.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord import complete, render, translate
from adapters.discord.forum import tag_answered
from adapters.discord.private import PrivateReplies
from adapters.discord.streaming import DraftStream
from adapters.discord.views import answer_view
from bot.types import Actor, Answer, ChannelRef, CommandInfo, IncomingMessage, Reply

if TYPE_CHECKING:
    from bot.ports import Core
    from bot.settings import Settings

log = logging.getLogger(__name__)

LIMITED = "You have asked a lot of questions in a short time; please wait a minute and ask again."
NOTHING_TO_ASK = "That message has no text for me to answer."
ASK_USAGE = "Ask a question about your team's docs, e.g. `/ask question: how do I rotate the API key?`"
APOLOGY = ("Sorry, I could not answer that just now. If it keeps happening, give an admin this "
           "reference: `{ref}`.")

Send = Callable[..., Awaitable[discord.Message | None]]

# Answers quote documents: a quoted "@everyone" or role mention must never ping anyone. Passed
# on every send, because a reply's ``mention_author`` otherwise falls back to "allow all".
SAFE_MENTIONS = discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=False)


def _reference() -> str:
    return uuid.uuid4().hex[:8]


async def _within_limits(reply: Reply, say: Callable[[str], Awaitable[None]]) -> bool:
    """Carry out the core's rate-limit word on ``reply``: a refusal is said (never a silent
    drop) and False returned; a queued answer says its place in the queue and waits its turn."""
    if reply.kind == "limited":
        await say(reply.message or LIMITED)
        return False
    if reply.wait_s > 0:
        if reply.message:
            await say(reply.message)
        await asyncio.sleep(reply.wait_s)
    return True


async def send_answer(answer: Answer, send: Send, *, core: Core, title: str | None = None,
                      draft: discord.Message | None = None, share: bool = False,
                      ) -> discord.Message | None:
    """Send the rendered answer with ``send`` and remember which message carries it.

    ``draft``: the message a streamed draft was shown in; it becomes the answer's first part
    (the checked text replaces the draft). ``share``: a private answer gets "Share in channel"."""
    last: discord.Message | None = None
    for i, part in enumerate(render.render_answer(answer, title=title)):
        kwargs: dict = {"allowed_mentions": SAFE_MENTIONS}
        if part.content:
            kwargs["content"] = part.content
        if part.embed is not None:
            kwargs["embed"] = discord.Embed.from_dict(part.embed)
        if part.with_feedback and answer.interaction_id is not None:
            kwargs["view"] = answer_view(answer.interaction_id, share=share)
        if i == 0 and draft is not None:
            kwargs.setdefault("content", None)  # the draft's text goes; the embed carries it
            await draft.edit(**kwargs)
            last = draft
        else:
            last = await send(**kwargs)
    if last is not None and answer.interaction_id is not None:
        await asyncio.to_thread(core.attach_reply, interaction_id=answer.interaction_id,
                                reply_ref=str(last.id))
    return last


class LoreCog(commands.Cog):
    """Slash commands and listeners. ``bot.core`` is a :class:`bot.ports.Core` (the ``LoreBot``
    facade in production, ``tests/helpers/fake_core.py`` in tests): it decides whether a message
    or a reaction is for lorebot; this class only translates, calls and renders."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        # /lore's subcommands come from the core's command registry: one per command group,
        # so every admin command (the same words as Slack's /lore admin) needs no code here.
        self.infos = self.core.commands()
        self.lore = lore_group(self._admin, self.infos, autocomplete=self._complete)
        # Right-click (or long-press) a message > Apps > Ask lorebot. The interaction carries
        # the message, so this needs no Message Content intent.
        self.ask_menu = app_commands.ContextMenu(name="Ask lorebot", callback=self._ask_message)
        # At most one draft edit per this many seconds (tests make it shorter).
        self.stream_interval_s = 1.0

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.lore)
        self.bot.tree.add_command(self.ask_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.lore.name)
        self.bot.tree.remove_command(self.ask_menu.name, type=self.ask_menu.type)

    @property
    def core(self) -> Core:
        return self.bot.core  # type: ignore[attr-defined]

    @property
    def settings(self) -> Settings:
        return self.bot.settings  # type: ignore[attr-defined]

    # --- /ask ---------------------------------------------------------------------------
    @app_commands.command(name="ask", description="Ask lorebot a question about your team's docs")
    @app_commands.describe(question="What you want to know")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        question = translate.slash_question(question)
        if not question:
            await interaction.response.send_message(ASK_USAGE, ephemeral=True)
            return
        channel, thread = translate.interaction_channel(interaction)
        asker = translate.interaction_actor(interaction)
        if not await self._admitted(interaction, asker, channel):
            return
        # Discord fails an interaction not acknowledged within 3 seconds; answering takes longer.
        await interaction.response.defer(thinking=True)

        async def followup(**kwargs: object) -> discord.Message | None:
            return await interaction.followup.send(wait=True, **kwargs)

        await self._answer(question, channel=channel, thread=thread, asker=asker, send=followup)

    async def _admitted(self, interaction: discord.Interaction, asker: Actor,
                        channel: ChannelRef) -> bool:
        """The rate limits for questions asked directly (``on_message`` applies them itself):
        a refusal is said privately, never dropped; a queued question waits its turn."""
        admission = await asyncio.to_thread(self.core.admit, asker=asker, channel=channel)
        if not admission.allowed:
            await interaction.response.send_message(admission.message or LIMITED, ephemeral=True)
            return False
        if admission.queued:
            await asyncio.sleep(min(admission.wait_s, 2.5))  # the 3 s acknowledgement comes first
            remaining = admission.wait_s - 2.5
            if remaining > 0:
                await interaction.response.defer(thinking=True, ephemeral=True)
                await interaction.followup.send(admission.message or LIMITED, ephemeral=True)
                await asyncio.sleep(remaining)
        return True

    # --- "Ask lorebot" on a message -------------------------------------------------------
    async def _ask_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        me = self.bot.user
        question = translate.strip_mentions(message.content, me.id if me else None)
        if not question:
            await interaction.response.send_message(NOTHING_TO_ASK, ephemeral=True)
            return
        channel, _thread = translate.interaction_channel(interaction)
        asker = translate.interaction_actor(interaction)
        if not await self._admitted(interaction, asker, channel):
            return
        # Private by default (someone asks about another person's message); "Share in
        # channel" posts it for everyone.
        await interaction.response.defer(thinking=True, ephemeral=True)

        async def followup(**kwargs: object) -> discord.Message | None:
            return await interaction.followup.send(wait=True, ephemeral=True, **kwargs)

        # thread=None: a private answer must not make lorebot answer everyone's follow-ups in
        # that thread (follow-ups go where lorebot answered in public).
        await self._answer(question, channel=channel, thread=None, asker=asker, send=followup,
                           share=True)

    # --- /lore ... ----------------------------------------------------------------------
    async def _complete(self, interaction: discord.Interaction, subcommand: str,
                        current: str) -> list[app_commands.Choice[str]]:
        target = translate.ROUTER_WORDS.get(subcommand, "")
        what = complete.what_to_complete(subcommand, self.infos, current, prefix_words=target)
        if what is None:
            return []
        names: list[str] = []
        if what.kind is not None:
            try:
                names = await asyncio.to_thread(self.core.complete, what.kind, what.prefix,
                                                actor=translate.interaction_actor(interaction),
                                                limit=complete.CHOICES_LIMIT)
            except Exception:  # noqa: BLE001 - no suggestions beats an error while typing
                log.exception("autocomplete failed", extra={"kind": what.kind})
                return []
        return [app_commands.Choice(name=n, value=v) for n, v in complete.choices(what, names)]

    async def _admin(self, interaction: discord.Interaction, subcommand: str, args: str | None) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        private = PrivateReplies(interaction)
        text = translate.command_text(subcommand, args)
        actor = translate.interaction_actor(interaction)
        channel, _thread = translate.interaction_channel(interaction)
        loop = asyncio.get_running_loop()

        def notify(message: str) -> None:
            # Called later from a worker thread when a long command (reindex, train) finishes.
            asyncio.run_coroutine_threadsafe(self._notify(interaction, message), loop)

        try:
            result = await asyncio.to_thread(self.core.command, text, actor=actor, channel=channel,
                                             notify=notify)
        except Exception:
            ref = _reference()
            log.exception("admin command failed", extra={"reference": ref, "command": subcommand})
            await private.send(APOLOGY.format(ref=ref))
            return
        # Admin output stays where it started: every piece private (even of a command anyone
        # may run: the deferral was private), by DM once the token has expired.
        for piece in render.render_text(result.text):
            if not await private.send(piece):
                return

    async def _notify(self, interaction: discord.Interaction, message: str) -> None:
        # A long command (reindex, training) often finishes after the 15-minute token.
        private = PrivateReplies(interaction)
        for piece in render.render_text(message):
            if not await private.send(piece):
                log.warning("could not report a finished admin command",
                            extra={"channel_id": interaction.channel_id})
                return

    # --- answering ----------------------------------------------------------------------
    async def _answer(self, question: str, *, channel: ChannelRef, thread: str | None, asker: Actor,
                      send: Send, title: str | None = None, share: bool = False,
                      ) -> discord.Message | None:
        # With an LLM provider the text arrives as it is written and a draft message shows it;
        # the extractive answer writes nothing to the sink, so it is sent once, complete.
        draft = DraftStream(send, loop=asyncio.get_running_loop(), interval_s=self.stream_interval_s,
                            allowed_mentions=SAFE_MENTIONS)
        try:
            answer = await asyncio.to_thread(self.core.ask, question, channel=channel, asker=asker,
                                             thread=thread, on_text=draft.sink)
        except Exception:
            ref = _reference()
            log.exception("answering failed", extra={"reference": ref, "platform": "discord"})
            shown = await draft.finish()
            try:
                if shown is not None:
                    # Never leave a half answer without its sources: the apology replaces it.
                    await shown.edit(content=APOLOGY.format(ref=ref), embed=None, view=None,
                                     allowed_mentions=SAFE_MENTIONS)
                    return shown
                return await send(content=APOLOGY.format(ref=ref))
            except discord.HTTPException:
                log.warning("could not deliver the apology either", extra={"reference": ref})
                return None
        shown = await draft.finish()
        return await send_answer(answer, send, core=self.core, title=title, draft=shown, share=share)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        try:
            await self._on_message(message)
        except Exception:
            log.exception("handling a Discord message failed", extra={"message_id": message.id})

    async def _on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is not None and message.author.id == me.id:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return  # joins, pins, boosts: nobody said anything
        incoming = translate.incoming_message(message, bot_id=me.id if me else None)
        reply = await asyncio.to_thread(self.core.on_message, incoming)
        if reply is None:
            return
        async def say(text: str) -> None:
            await message.reply(text, mention_author=False, allowed_mentions=SAFE_MENTIONS)

        if not await _within_limits(reply, say):
            return
        if reply.kind == "usage":
            await message.reply("Ask me a question after the mention, e.g. "
                                f"{me.mention if me else '@lorebot'} how do I deploy?")
            return
        if not reply.new_thread:
            await self._answer_here(message, reply.question, incoming.channel, reply.thread,
                                    incoming.user)
            return
        thread = await self._start_thread(message, reply.question)
        if thread is None:
            await self._answer_here(message, reply.question, incoming.channel, None, incoming.user)
            return
        async with thread.typing():
            await self._answer(reply.question, channel=incoming.channel, thread=str(thread.id),
                               asker=incoming.user, send=thread.send, title=None)

    async def _answer_here(self, message: discord.Message, question: str, channel: ChannelRef,
                           thread: str | None, asker: Actor) -> None:
        """Answer in the message's own channel (a DM, a thread, or the no-thread fallback)."""
        first = True

        async def send(**kwargs: object) -> discord.Message:
            nonlocal first
            if first:
                first = False
                return await message.reply(mention_author=False, **kwargs)
            return await message.channel.send(**kwargs)

        async with message.channel.typing():
            await self._answer(question, channel=channel, thread=thread, asker=asker, send=send)

    async def _start_thread(self, message: discord.Message, question: str) -> discord.Thread | None:
        guild = message.guild
        parent = message.channel
        if guild is None or not isinstance(parent, discord.TextChannel | discord.ForumChannel):
            return None
        perms = parent.permissions_for(guild.me)
        if not (perms.create_public_threads and perms.send_messages_in_threads):
            log.info("no permission to create threads here; answering with a reply",
                     extra={"channel_id": parent.id})
            return None
        try:
            return await message.create_thread(name=translate.thread_name(question),
                                               auto_archive_duration=1440)
        except discord.HTTPException as exc:
            log.warning("creating a thread failed (%s); answering with a reply", exc.status,
                        extra={"channel_id": parent.id})
            return None

    # --- forum posts --------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        try:
            await self._on_thread_create(thread)
        except Exception:
            log.exception("handling a new forum post failed", extra={"thread_id": thread.id})

    async def _on_thread_create(self, thread: discord.Thread) -> None:
        if not isinstance(thread.parent, discord.ForumChannel):
            return
        me = self.bot.user
        if me is not None and thread.owner_id == me.id:
            return
        starter = thread.starter_message
        # Without the Message Content intent the text is empty anyway: the title is the question.
        if starter is None and self.bot.intents.message_content:
            # A post's first message has the thread's id; it may arrive just after the thread.
            try:
                starter = await thread.fetch_message(thread.id)
            except discord.HTTPException:
                starter = None
        incoming = translate.forum_post(thread, starter)
        reply = await asyncio.to_thread(self.core.on_forum_post, incoming)
        if reply is None:
            return
        await self._reply_in_thread(thread, reply, incoming)

    async def _reply_in_thread(self, thread: discord.Thread, reply: Reply,
                               incoming: IncomingMessage) -> None:
        async def say(text: str) -> None:
            await thread.send(text, allowed_mentions=SAFE_MENTIONS)

        if not await _within_limits(reply, say):
            return
        if reply.kind != "answer":
            return
        async with thread.typing():
            await self._answer(reply.question, channel=incoming.channel, thread=str(thread.id),
                               asker=incoming.user, send=thread.send)

    # --- reaction votes -----------------------------------------------------------------
    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._on_reaction(payload)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._on_reaction(payload)

    async def _on_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        # Raw events arrive for messages not in the cache (sent before a restart), and carry
        # only ids: whether it is a lorebot answer is looked up by message id in the database.
        me = self.bot.user
        if me is not None and payload.user_id == me.id:
            return
        if payload.member is not None and payload.member.bot:
            return
        reaction = translate.reaction(payload)
        try:
            recorded = await asyncio.to_thread(self.core.on_reaction, reaction)
        except Exception:
            log.exception("recording a reaction vote failed", extra={"message_id": payload.message_id})
            return
        log.debug("reaction vote", extra={"recorded": recorded, "added": reaction.added})
        if recorded and payload.event_type == "REACTION_ADD" and self.core.vote_of(reaction) == 1:
            await tag_answered(self.bot, self.settings, channel_id=payload.channel_id,
                               user_id=payload.user_id)


Complete = Callable[[discord.Interaction, str, str], Awaitable[list[app_commands.Choice[str]]]]


def lore_group(run: Callable[[discord.Interaction, str, str | None], Awaitable[None]],
               infos: list[CommandInfo], *, autocomplete: Complete | None = None,
               ) -> app_commands.Group:
    """``/lore`` with one subcommand per registry group (plus Discord's shortcuts); each hands
    ``<group> <args>`` to ``run``, so the router parses exactly what Slack's /lore admin gets."""
    group = app_commands.Group(
        name="lore",
        description="lorebot administration",
        # Hidden from everyone without Manage Server; a server can grant it to configured
        # admins in Server Settings > Integrations. The router checks authorization again.
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )
    for sub in translate.lore_subcommands(infos):
        group.add_command(_subcommand(run, sub, autocomplete))
    return group


def _subcommand(run: Callable[[discord.Interaction, str, str | None], Awaitable[None]],
                sub: translate.LoreSubcommand, autocomplete: Complete | None) -> app_commands.Command:
    async def callback(interaction: discord.Interaction, args: str | None = None) -> None:
        await run(interaction, sub.name, args)

    callback = app_commands.describe(args=sub.args_help)(callback)
    command = app_commands.Command(name=sub.name, description=sub.description, callback=callback)
    if autocomplete is not None:
        async def suggest(interaction: discord.Interaction,
                          current: str) -> list[app_commands.Choice[str]]:
            return await autocomplete(interaction, sub.name, current)

        command.autocomplete("args")(suggest)
    return command


class LoreTree(app_commands.CommandTree):
    """Turns any slash-command failure into a short ephemeral reply instead of silence."""

    async def on_error(self, interaction: discord.Interaction,
                       error: app_commands.AppCommandError) -> None:
        if isinstance(error, app_commands.CommandNotFound):
            text = ("I do not know that command (it may come from an older version of lorebot). "
                    "Try `/lore help`.")
            log.info("unknown application command", extra={"command": error.name})
        elif isinstance(error, app_commands.MissingPermissions | app_commands.CheckFailure):
            text = "You are not allowed to run that command here."
        else:
            ref = _reference()
            text = APOLOGY.format(ref=ref)
            log.error("slash command failed", exc_info=error, extra={"reference": ref})
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about a failed command")
