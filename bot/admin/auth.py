"""Who may run admin commands.

An admin is anyone listed in ``LOREBOT_ADMINS`` (``slack:U123``, ``discord:456``), a platform
admin (Slack workspace admin/owner, Discord Manage Server) when ``TRUST_PLATFORM_ADMINS`` is on,
or the local CLI user: whoever has a shell on the host can already read the database and the
``.env``, so refusing them would protect nothing.
"""

from __future__ import annotations

from bot.settings import Settings
from bot.types import Actor

CLI_PLATFORM = "cli"


def is_admin(settings: Settings, actor: Actor) -> bool:
    if actor.platform == CLI_PLATFORM:
        return True
    configured = {entry.strip().lower() for entry in settings.lorebot_admins}
    if actor.key.lower() in configured:
        return True
    return bool(actor.platform_admin and settings.trust_platform_admins)
