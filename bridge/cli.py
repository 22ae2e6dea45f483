"""The ``community-bridge`` command line: run, console, db upgrade, check, slack-manifest,
discord-sync and survey create."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

from bridge import __version__
from bridge.config import Config, ConfigError, load_config

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="community-bridge",
        description="Brings a company's communities into Slack, Telegram and Discord.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--config", help="path of bot.toml (default ./bot.toml or $BRIDGE_CONFIG)")
        return p

    run = add("run", "run the bot: adapters, HTTP server, scheduler, delivery")
    run.add_argument("--adapters", help="only these adapters, e.g. slack,telegram")
    console = add("console", "chat with the bot in the terminal (scriptable: reads stdin)")
    console.add_argument("--user", default="admin", help="who speaks (default admin)")
    console.add_argument("--channel", default="general", help="where (default general)")
    db = add("db", "database maintenance")
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply the migrations")
    add("check", "validate the configuration and say what is configured")
    add("slack-manifest", "print the Slack app manifest")
    add("discord-sync", "register the application commands with Discord")
    survey = add("survey", "surveys from files")
    survey.add_argument("action", choices=["create"])
    survey.add_argument("file", help="survey definition (TOML)")
    survey.add_argument("--group", required=True, help="the group to run it in")
    return parser


def _config(args: argparse.Namespace) -> Config:
    return load_config(getattr(args, "config", None))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.cmd:
        _parser().print_help()
        return 2
    logging.basicConfig(
        level=logging.INFO if args.cmd == "run" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("aiosqlite", "sqlalchemy", "apscheduler", "httpx", "telegram", "discord"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        config = _config(args)
        return int(_dispatch(args, config) or 0)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from bridge.runtime import StartError

        if not isinstance(exc, StartError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, config: Config) -> int:
    if args.cmd == "check":
        return _check(config)
    if args.cmd == "db":
        from bridge.db import upgrade_blocking

        upgrade_blocking(config.database.url)
        print(f"database is up to date: {_safe_url(config.database.url)}")
        return 0
    if args.cmd == "run":
        from bridge.runtime import KNOWN_PLATFORMS, Runtime

        platforms = None
        if args.adapters:
            platforms = [p.strip() for p in args.adapters.split(",") if p.strip()]
            unknown = [p for p in platforms if p not in KNOWN_PLATFORMS]
            if unknown:
                print(
                    f"error: unknown adapter {unknown[0]!r} (known: {', '.join(KNOWN_PLATFORMS)})",
                    file=sys.stderr,
                )
                return 2
            configured = config.configured_platforms()
            missing = [p for p in platforms if p != "console" and p not in configured]
            if missing:
                print(
                    f"error: {missing[0]} is not configured: add its credentials to "
                    f"[{missing[0]}] in {config.path} (see `community-bridge check`)",
                    file=sys.stderr,
                )
                return 2
        return asyncio.run(Runtime(config, platforms).run())
    if args.cmd == "console":
        return asyncio.run(_console(config, args.user, args.channel))
    hooks = {
        "slack-manifest": ("adapters.slack", "print_manifest"),
        "discord-sync": ("adapters.discord", "sync_commands_cli"),
        "survey": ("bridge.services.surveys", "create_from_file_cli"),
    }
    module_name, func_name = hooks[args.cmd]
    try:
        func: Any = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError):
        print(f"error: '{args.cmd}' is not available in this build", file=sys.stderr)
        return 2
    return int(func(config, args) or 0)


async def _console(config: Config, user: str, channel: str) -> int:
    from bridge.runtime import Runtime

    runtime = Runtime(
        config,
        ["console"],
        http=False,
        console={"user": user.lstrip("@"), "channel": channel.lstrip("#")},
    )
    return await runtime.run()


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def _check(config: Config) -> int:
    print(f"config OK: {config.path}")
    print(
        f"  community: {config.community.name} (locale {config.community.locale}, "
        f"{len(config.community.admins)} bootstrap admin(s))"
    )
    print(f"  database: {_safe_url(config.database.url)}")
    print(f"  http: {config.http.host}:{config.http.port} (public {config.http.public_url})")
    s = config.slack
    if s.configured:
        mode = "Socket Mode" if s.app_token else "HTTP /slack/events"
        print(f"  slack: on ({mode}, api {s.api_url})")
    else:
        missing = "bot_token" if not s.bot_token else "signing_secret or app_token"
        print(f"  slack: off (no {missing})")
    t = config.telegram
    print(
        f"  telegram: on ({t.mode}, {t.base_url})" if t.configured else "  telegram: off (no token)"
    )
    if t.configured and t.mode == "webhook" and not t.webhook_secret:
        print("error: telegram: webhook mode needs webhook_secret", file=sys.stderr)
        return 2
    d = config.discord
    print(f"  discord: on ({d.api_base})" if d.configured else "  discord: off (no token)")
    if not config.configured_platforms():
        print("  console: on (no chat platform configured; `run` opens the console)")
    return 0
