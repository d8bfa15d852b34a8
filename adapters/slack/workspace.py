"""Channel keys per workspace: the id lorebot's core sees for a Slack channel.

With one bot token (one workspace) the key is the channel id, as it always was (``C123``),
so existing channel scopes, audit rows and interactions keep matching. Installed through
OAuth on many workspaces, two workspaces can each have a ``C123``; there the key is
``T123:C123``, so a channel scope set in one workspace never applies in another, and the
interactions and audit log say which workspace a question came from. Only the core sees the
key: every Web API call uses :func:`slack_channel_id`.
"""

from __future__ import annotations

from bot.types import ChannelRef

SEP = ":"


def channel_key(channel_id: str, team_id: str | None, *, per_workspace: bool) -> str:
    if not per_workspace or not team_id or SEP in channel_id:
        return channel_id
    return f"{team_id}{SEP}{channel_id}"


def slack_channel_id(key: str) -> str:
    """The Slack channel id inside a key (the key itself in single-token mode)."""
    return key.rsplit(SEP, 1)[-1]


def workspace_channel(channel_id: str, team_id: str | None, *, per_workspace: bool,
                      channel_type: str | None = None) -> ChannelRef:
    """Like ``translate.channel_ref``, with the workspace in the id when ``per_workspace``."""
    from adapters.slack import translate

    ref = translate.channel_ref(channel_id, channel_type)
    return ChannelRef(platform=ref.platform, is_dm=ref.is_dm,
                      id=channel_key(channel_id, team_id, per_workspace=per_workspace))
