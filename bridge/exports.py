"""``GET /exports/{token}.csv``: a survey export behind a one-time token (404 once used or
expired), for platforms where the bot cannot upload the file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bridge.services import surveys as svc

if TYPE_CHECKING:
    from bridge.core import Bridge

__all__ = ["export_url", "mount"]

PATH = "/exports/{token:[A-Za-z0-9_-]{16,64}}.csv"


def export_url(bridge: Bridge, token: str) -> str:
    return f"{bridge.config.http.public_url.rstrip('/')}/exports/{token}.csv"


def mount(app: web.Application, bridge: Bridge) -> None:
    async def download(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        async with bridge.db.transaction() as session:
            found = await svc.take_export(session, token, bridge.clock.now())
        if found is None:
            raise web.HTTPNotFound(text="This export link is unknown, used or expired.\n")
        filename, content = found
        return web.Response(
            body=content.encode("utf-8"),
            content_type="text/csv",
            charset="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )

    app.router.add_get(PATH, download)
