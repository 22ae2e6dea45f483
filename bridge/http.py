"""The one aiohttp server: health, metrics, and the routes adapters and feeds mount."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from bridge.models import OutboxRow

if TYPE_CHECKING:
    from bridge.core import Bridge

__all__ = ["HttpServer", "build_app"]

BRIDGE_KEY: web.AppKey[Bridge] = web.AppKey("bridge")


HEALTH_TIMEOUT = 2.0  # seconds for the database to answer /healthz


async def healthz(request: web.Request) -> web.Response:
    """Ready, the adapters' states, and the outbox: its backlog and how long the oldest
    due message has waited. 503 while starting, and when the database does not answer
    (named, with the reason)."""
    from bridge.db import describe_error

    bridge = request.app[BRIDGE_KEY]
    adapters = {name: a.health() for name, a in bridge.adapters.items()}
    ok = bridge.ready and all(a["state"] == "ready" for a in adapters.values())
    body: dict[str, Any] = {
        "status": "ok" if ok else "starting" if not bridge.ready else "degraded",
        "adapters": adapters,
    }
    if bridge.ready:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT), bridge.db.reading() as session:
                body["outbox"] = await bridge.outbox.backlog(session)
                body["inbox"] = await bridge.inbox.backlog(session)
        except Exception as exc:
            reason = "no answer in time" if isinstance(exc, TimeoutError) else describe_error(exc)
            body["status"] = "down"
            body["database"] = f"unreachable: {reason}"
            return web.json_response(body, status=503)
    return web.json_response(body, status=200 if bridge.ready else 503)


async def metrics(request: web.Request) -> web.Response:
    bridge = request.app[BRIDGE_KEY]
    for name, adapter in bridge.adapters.items():
        bridge.metrics.adapter_up.labels(name).set(1 if adapter.state == "ready" else 0)
    async with bridge.db.reading() as session:
        counts = dict(
            (
                await session.execute(
                    select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
                )
            ).all()
        )
    for status in ("pending", "sending", "held", "failed", "dead"):
        bridge.metrics.outbox.labels(status).set(counts.get(status, 0))
    resp = web.Response(body=bridge.metrics.render())
    resp.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    resp.charset = "utf-8"
    return resp


def build_app(bridge: Bridge) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[BRIDGE_KEY] = bridge
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    for adapter in bridge.adapters.values():
        adapter.add_routes(app)
    for hook in bridge.registry.http_routes:
        hook(app, bridge)
    return app


class HttpServer:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, host: str, port: int) -> None:
        self.runner = web.AppRunner(build_app(self.bridge), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
