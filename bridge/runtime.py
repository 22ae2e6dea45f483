"""Running the bot: migrate, start adapters, the HTTP server, the scheduler and the
delivery worker in one asyncio process, and stop cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from typing import TextIO

from bridge.adapter import Adapter
from bridge.config import Config
from bridge.core import Bridge
from bridge.db import upgrade
from bridge.http import HttpServer
from bridge.plugins import adapter_classes

__all__ = ["Runtime", "StartError", "known_platforms", "load_adapter"]

log = logging.getLogger(__name__)


class StartError(Exception):
    """The bot cannot start; the message says why and what to change."""


def known_platforms() -> list[str]:
    """Every installed adapter (entry points ``community_bridge.adapters``)."""
    return list(adapter_classes())


def load_adapter(platform: str, bridge: Bridge) -> Adapter:
    cls = adapter_classes().get(platform)
    if cls is None:
        known = ", ".join(known_platforms())
        raise ValueError(f"unknown adapter {platform!r} (known: {known})")
    return cls(bridge, config=bridge.config.section(platform))


def default_platforms(config: Config) -> list[str]:
    """What ``run`` starts without ``--adapters``: the configured platforms, or else the
    interactive ones (the console)."""
    return config.configured_platforms() or [
        name for name, cls in adapter_classes().items() if cls.interactive
    ]


class Runtime:
    """Everything ``community-bridge run`` starts, in the order it starts and stops it."""

    def __init__(
        self,
        config: Config,
        platforms: list[str] | None = None,
        http: bool = True,
        stdin: TextIO | None = None,
        bridge: Bridge | None = None,
    ) -> None:
        self.config = config
        self.platforms = platforms or default_platforms(config)
        self.http_enabled = http and config.http.enabled
        self.stdin = stdin
        self.bridge = bridge
        self.http: HttpServer | None = None
        self.stop_event = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> Bridge:
        await upgrade(self.config.database.url)
        bridge = self.bridge or Bridge(self.config)
        self.bridge = bridge
        await bridge.start()
        for platform in self.platforms:
            bridge.add_adapter(load_adapter(platform, bridge))
        if any(a.interactive for a in bridge.adapters.values()):
            bridge.outbox.in_order = True
        if self.http_enabled:
            self.http = HttpServer(bridge)
            try:
                await self.http.start(self.config.http.host, self.config.http.port)
            except OSError as exc:
                self.http = None
                raise StartError(
                    f"cannot listen on {self.config.http.host}:{self.config.http.port} "
                    f"({exc.strerror or exc}); choose another [http] port in "
                    f"{self.config.path}"
                ) from None
        if self.http is not None:  # host and port: unique among the running processes
            identity = f"{socket.gethostname()}:{self.http.port}"
            await bridge.outbox.take_over(identity)
            await bridge.inbox.take_over(identity)
        for adapter in bridge.adapters.values():
            adapter.state = "starting"
            try:
                await adapter.start()
            except Exception as exc:  # one platform down must not stop the others
                log.exception("adapter %s failed to start", adapter.platform)
                adapter.state = "error"
                adapter.detail = f"{type(exc).__name__}: {exc}"[:300]
        bridge.deadlines.start()
        self._tasks.append(asyncio.create_task(bridge.outbox.run(self.stop_event)))
        self._tasks.append(asyncio.create_task(bridge.inbox.run(self.stop_event)))
        bridge.ready = True
        log.info(
            "community-bridge ready: adapters %s, http %s",
            ", ".join(bridge.adapters),
            f"{self.config.http.host}:{self.http.port}" if self.http else "off",
        )
        for adapter in bridge.adapters.values():
            if adapter.interactive:
                self._tasks.append(asyncio.create_task(self._serve(adapter)))
        return bridge

    async def _serve(self, adapter: Adapter) -> None:
        """An interactive adapter's session; when it ends, the process stops."""
        try:
            await adapter.serve(self.stdin)
        finally:
            self.stop_event.set()

    async def stop(self) -> None:
        bridge = self.bridge
        self.stop_event.set()
        if bridge is not None:
            bridge.ready = False
            await bridge.deadlines.aclose()
        for task in self._tasks:
            if not task.done():
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=5)
        if bridge is not None:
            for adapter in bridge.adapters.values():
                try:
                    await asyncio.wait_for(adapter.stop(), timeout=5)
                except Exception:
                    log.exception("adapter %s did not stop cleanly", adapter.platform)
        if self.http is not None:
            await self.http.stop()
        if bridge is not None:
            await bridge.close()

    async def run(self, install_signals: bool = True) -> int:
        loop = asyncio.get_running_loop()
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self.stop_event.set)
        try:
            await self.start()
            await self.stop_event.wait()
        finally:
            await self.stop()
        return 0
