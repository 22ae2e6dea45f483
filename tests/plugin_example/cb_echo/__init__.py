"""A tiny platform adapter shipped as its own package: it answers nothing, but shows that
the core finds it, validates its section, reads its environment variable, lists it in
``check``, starts it in ``run`` and offers its command-line verb."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import ClassVar

from bridge.adapter import Adapter, CliVerb
from bridge.config import Config, PlatformConfig
from bridge.messages import ChannelRef, Message


class EchoConfig(PlatformConfig):
    token: str | None = None
    greeting: str = "hello"
    marker: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.token)

    def describe(self) -> str:
        return f"on (greeting {self.greeting!r})" if self.configured else "off (no token)"


def _hello(config: Config, args: argparse.Namespace) -> int:
    print(f"echo says {config.section('echo').greeting}")
    return 0


class EchoAdapter(Adapter):
    platform = "echo"
    config_model = EchoConfig
    env: ClassVar[dict[str, str]] = {"ECHO_TOKEN": "token"}
    config: EchoConfig

    @classmethod
    def cli_verbs(cls) -> list[CliVerb]:
        return [CliVerb("echo-hello", "say the configured greeting", _hello)]

    async def start(self) -> None:
        if self.config.marker:
            commands = sorted(c.name for c in self.port.commands())
            Path(self.config.marker).write_text(  # noqa: ASYNC240 (a test marker)
                json.dumps({"greeting": self.config.greeting, "commands": commands})
            )
        self.state = "ready"

    async def send(self, channel: ChannelRef, message: Message) -> str:
        return "1"

    async def edit(self, channel: ChannelRef, message_id: str, message: Message) -> None:
        return None
