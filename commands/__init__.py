"""The built-in command pack: chat commands, one module per command family.

Installed as the entry point ``community_bridge.commands: builtin``; importing the package
imports every module here, and each registers its commands, buttons and renderers with
``bridge.registry``.
"""

import importlib
import pkgutil

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
    importlib.import_module(f"{__name__}.{_info.name}")
