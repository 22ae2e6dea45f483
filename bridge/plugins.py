"""Plug-ins found through Python entry points: platform adapters and command packs.

A platform is an ``Adapter`` subclass named under ``community_bridge.adapters``; a command
pack is a module named under ``community_bridge.commands`` (importing it registers its
commands). Both are found at run time, so a third party can ship a Matrix adapter or a
command pack as its own distribution::

    [project.entry-points."community_bridge.adapters"]
    matrix = "bridge_matrix:MatrixAdapter"

    [project.entry-points."community_bridge.commands"]
    polls = "bridge_polls.commands"

The core names no platform: everything it needs to know of one (its ``bot.toml`` section,
environment variables, whether it may always open a private chat, how it writes a mention,
its command-line verbs) is declared on the adapter class.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.adapter import Adapter

__all__ = [
    "ADAPTER_GROUP",
    "COMMAND_GROUP",
    "adapter_classes",
    "can_always_dm",
    "command_modules",
    "has_forms",
    "reset",
]

log = logging.getLogger(__name__)

ADAPTER_GROUP = "community_bridge.adapters"
COMMAND_GROUP = "community_bridge.commands"


@cache
def adapter_classes() -> dict[str, type[Adapter]]:
    """Every installed platform, by its name (the entry point's name), sorted."""
    from bridge.adapter import Adapter

    found: dict[str, type[Adapter]] = {}
    for ep in sorted(entry_points(group=ADAPTER_GROUP), key=lambda e: e.name):
        if ep.name in found:
            continue  # the same distribution seen twice on sys.path
        try:
            cls = ep.load()
        except Exception:  # a broken third-party plug-in must not stop the others
            log.exception("adapter plug-in %s (%s) cannot be loaded", ep.name, ep.value)
            continue
        if not (isinstance(cls, type) and issubclass(cls, Adapter)):
            log.error("adapter plug-in %s (%s) is not an Adapter subclass", ep.name, ep.value)
            continue
        if getattr(cls, "platform", ep.name) != ep.name:
            log.error("adapter plug-in %s declares platform %r", ep.name, cls.platform)
            continue
        found[ep.name] = cls
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


@cache
def command_modules() -> tuple[ModuleType, ...]:
    """Import every installed command pack (each module registers its commands)."""
    modules = []
    for ep in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        try:
            modules.append(importlib.import_module(ep.value.partition(":")[0]))
        except Exception:
            log.exception("command plug-in %s (%s) cannot be loaded", ep.name, ep.value)
    return tuple(modules)


def can_always_dm(platform: str) -> bool:
    """Whether the bot may open a private chat with any user of ``platform`` unasked.

    A platform without an installed adapter is assumed to allow it.
    """
    cls = adapter_classes().get(platform)
    return True if cls is None else cls.can_always_dm


def has_forms(platform: str) -> bool:
    """Whether ``platform`` shows a ``FormRequest`` as a form (a modal) of its own; where
    it does not, features ask field by field in the private chat instead."""
    cls = adapter_classes().get(platform)
    return False if cls is None else cls.forms


def reset() -> None:
    """Forget what was found (tests that install a plug-in at run time)."""
    adapter_classes.cache_clear()
    command_modules.cache_clear()
