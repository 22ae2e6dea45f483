"""The ``community-bridge`` command line: run, db upgrade, check and survey create, plus
the verbs that installed adapters bring (console, slack-manifest, discord-sync)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from bridge import __version__
from bridge.adapter import CliVerb
from bridge.config import Config, ConfigError, load_config, public_url_refusal
from bridge.plugins import adapter_classes

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
    db = add("db", "database maintenance")
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply the migrations")
    add("check", "validate the configuration and say what is configured")
    for verb in _adapter_verbs().values():
        p = add(verb.name, verb.help)
        if verb.arguments is not None:
            verb.arguments(p)
    export = add("export", "export records for other systems")
    export.add_argument("what", choices=["profiles"], help="profiles: the partner profiles")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    outbox = add("outbox", "inspect and resend outgoing messages")
    outbox_sub = outbox.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = outbox_sub.add_parser("list", help="messages not delivered (newest first)")
    listing.add_argument("--failed", action="store_true", help="only failed and given up ones")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    again = outbox_sub.add_parser("retry", help="send failed or given-up messages again")
    again.add_argument("ids", nargs="*", type=int, help="outbox row ids")
    again.add_argument("--all-failed", action="store_true", help="every failed one")
    again.add_argument("--config", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    survey = add("survey", "surveys from files")
    survey.add_argument("action", choices=["create"])
    survey.add_argument("file", help="survey definition (TOML)")
    survey.add_argument("--group", required=True, help="the group to run it in")
    return parser


def _adapter_verbs() -> dict[str, CliVerb]:
    """The command-line verbs that installed adapters declare."""
    verbs: dict[str, CliVerb] = {}
    for cls in adapter_classes().values():
        for verb in cls.cli_verbs():
            verbs.setdefault(verb.name, verb)
    return verbs


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
    for noisy in (
        "aiosqlite",
        "alembic",
        "sqlalchemy",
        "apscheduler",
        "httpx",
        "telegram",
        "discord",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        config = _config(args)
        return int(_dispatch(args, config) or 0)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from sqlalchemy.exc import DBAPIError, OperationalError

        from bridge.db import describe_error
        from bridge.runtime import StartError

        if isinstance(exc, StartError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, OperationalError | DBAPIError | OSError):
            where = _safe_url(config.database.url) if "config" in locals() else "the database"
            print(f"error: cannot use the database {where}: {describe_error(exc)}", file=sys.stderr)
            return 2
        raise
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
        from bridge.runtime import Runtime, known_platforms

        platforms = None
        if args.adapters:
            platforms = [p.strip() for p in args.adapters.split(",") if p.strip()]
            known = known_platforms()
            unknown = [p for p in platforms if p not in known]
            if unknown:
                print(
                    f"error: unknown adapter {unknown[0]!r} (known: {', '.join(known)})",
                    file=sys.stderr,
                )
                return 2
            configured = config.configured_platforms()
            classes = adapter_classes()
            missing = [p for p in platforms if not classes[p].interactive and p not in configured]
            if missing:
                print(
                    f"error: {missing[0]} is not configured: add its credentials to "
                    f"[{missing[0]}] in {config.path} (see `community-bridge check`)",
                    file=sys.stderr,
                )
                return 2
        return asyncio.run(Runtime(config, platforms).run())
    if args.cmd == "export":
        return asyncio.run(_export(config, args.format))
    if args.cmd == "outbox":
        return asyncio.run(_outbox(config, args))
    if args.cmd == "survey":
        from bridge.services.surveys import create_from_file_cli

        return create_from_file_cli(config, args)
    return int(_adapter_verbs()[args.cmd].run(config, args) or 0)


async def _outbox(config: Config, args: argparse.Namespace) -> int:
    """``outbox list [--failed]`` and ``outbox retry <id>... | --all-failed``."""
    from bridge.core import started

    if args.action == "retry" and not args.ids and not args.all_failed:
        print("error: outbox retry needs row ids or --all-failed", file=sys.stderr)
        return 2
    async with started(config) as bridge, bridge.db.transaction() as session:
        if args.action == "retry":
            n = await bridge.outbox.retry(session, None if args.all_failed else args.ids)
            print(f"{n} message(s) will be sent again")
            return 0 if n or args.all_failed else 1
        backlog = await bridge.outbox.backlog(session)
        rows = await bridge.outbox.listing(session, args.failed, max(1, args.limit))
    summary = ", ".join(f"{k} {v}" for k, v in backlog.items() if k != "oldest_pending_seconds")
    print(f"outbox: {summary}; oldest pending {backlog['oldest_pending_seconds']} s")
    for row in rows:
        what = row.ref_key or (row.kind if row.payload is None else "message")
        error = f"  {row.last_error[:120]}" if row.last_error else ""
        print(
            f"{row.id:>8}  {row.status:<8} {row.channel_key or row.platform:<28} "
            f"{what:<20} attempts {row.attempts}{error}"
        )
    return 0


async def _export(config: Config, fmt: str) -> int:
    """``community-bridge export profiles --format csv|json``: to stdout (private profiles
    left out)."""
    from bridge.core import started
    from bridge.services import partners

    async with started(config) as bridge, bridge.db.reading() as session:
        assert bridge.community_id is not None
        rows = await partners.profile_rows(session, bridge.community_id)
    sys.stdout.write(partners.as_json(rows) if fmt == "json" else partners.as_csv(rows))
    return 0


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def _check(config: Config) -> int:
    from bridge.db import probe

    if not config.database.url.startswith("sqlite"):
        problem = asyncio.run(probe(config.database.url))
        if problem is not None:
            print(
                f"error: database.url: cannot reach {_safe_url(config.database.url)}: {problem}",
                file=sys.stderr,
            )
            return 2
    print(f"config OK: {config.path}")
    print(
        f"  community: {config.community.name} (locale {config.community.locale}, "
        f"{len(config.community.admins)} bootstrap admin(s))"
    )
    print(f"  database: {_safe_url(config.database.url)}")
    print(f"  http: {config.http.host}:{config.http.port} (public {config.http.public_url})")
    local = public_url_refusal(config.http.public_url.replace("http://", "https://", 1))
    if local:
        print(
            f"warning: http.public_url: {config.http.public_url} is on this machine or a "
            f"private network: links the bot posts (exports, feeds) work only there",
            file=sys.stderr,
        )
    problems: list[str] = []
    classes = adapter_classes()
    for name, section in config.sections.items():
        if classes[name].interactive and config.configured_platforms():
            continue
        print(f"  {name}: {section.describe()}")
        problems.extend(section.problems(config))
        for warning in section.warnings(config):
            print(f"warning: {warning}", file=sys.stderr)
    relaying: list[str] = []
    path = config.database.url.split(":///", 1)[-1].split("?", 1)[0]
    if not config.database.url.startswith("sqlite") or (path and os.path.exists(path)):
        relaying = asyncio.run(_relaying_groups(config))
    if relaying:
        print(f"  relay: on in {', '.join(relaying)}")
        configured = config.configured_platforms()
        if "discord" in configured and not config.section("discord").message_content:
            print(
                "warning: relay: Discord shows the bot no message text: set [discord] "
                "message_content = true and turn on the Message Content intent",
                file=sys.stderr,
            )
        if "telegram" in configured:
            print(
                "  relay: Telegram groups need the bot's privacy mode off (or the bot an "
                "admin there); /group set <name> relay says when it is on"
            )
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 2 if problems else 0


async def _relaying_groups(config: Config) -> list[str]:
    """The groups whose relay is on (none when the database is new or unreachable)."""
    from sqlalchemy import select

    from bridge.db import Database
    from bridge.models import Group

    db = Database(config.database.url)
    try:
        async with db.transaction() as session:
            return list(
                (await session.execute(select(Group.slug).where(Group.relay.is_(True)))).scalars()
            )
    except Exception:  # not migrated yet: nothing relays
        return []
    finally:
        await db.dispose()
