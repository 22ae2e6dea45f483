"""A TCP proxy that can stop answering: a network partition between the bot and its
database. ``partition()`` keeps every connection open but lets nothing through (a query
hangs, as it does when a link drops silently); ``heal()`` cuts the held connections (the
client's pool finds them dead) and forwards again."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["Partition"]


class Partition:
    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self.cut = False
        self._server: asyncio.Server | None = None
        self._pairs: set[asyncio.StreamWriter] = set()

    async def start(self) -> Partition:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._close_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def partition(self) -> None:
        self.cut = True

    def heal(self) -> None:
        self.cut = False
        self._close_all()

    def _close_all(self) -> None:
        for writer in list(self._pairs):
            writer.close()
        self._pairs.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._pairs.add(writer)
        while self.cut:  # connecting hangs too
            await asyncio.sleep(0.05)
            if writer.is_closing():
                return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._pairs.add(up_writer)
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                while self.cut:  # held: nothing gets through
                    await asyncio.sleep(0.05)
                    if writer.is_closing():
                        return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
