"""placeholder"""
from bot.admin.registry import CommandSpec


def specs() -> list[CommandSpec]:
    return []
