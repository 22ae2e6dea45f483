"""Database models. Every module of this package is imported, so a feature adds one file."""

from __future__ import annotations

import importlib
import pkgutil

from bridge.db import Base
from bridge.models.core import *  # noqa: F403

for _info in pkgutil.iter_modules(__path__):  # noqa: F405
    importlib.import_module(f"{__name__}.{_info.name}")

metadata = Base.metadata
