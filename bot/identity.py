"""People are stored as salted hashes, never as platform user ids."""

from __future__ import annotations

import hashlib
import hmac

from bot.settings import Settings
from bot.types import Actor


def user_hash(settings: Settings, actor: Actor) -> str:
    salt = settings.asker_hash_salt.get_secret_value().encode()
    return hmac.new(salt, actor.key.encode(), hashlib.sha256).hexdigest()
