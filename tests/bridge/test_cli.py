"""The command line as a user runs it: a scripted console session, `run` with /healthz and a
clean stop on SIGTERM, `db upgrade`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BACKEND, PG_URL

SESSION = """\
/help
/group new ideas internal
/link ideas
:channel random
/link ideas
:user bob
/link ideas
/group new sneaky
/frobnicate
/groups
:quit
/never-read
"""


def _config(tmp_path: Path, port: int = 0) -> Path:
    url = PG_URL if BACKEND == "postgres" else f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    path = tmp_path / "bot.toml"
    path.write_text(
        f'[community]\nname = "CLI"\nadmins = ["console:admin"]\n'
        f'[database]\nurl = "{url}"\n[http]\nport = {port}\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def cli_config(tmp_path: Path, db_url: str) -> Path:  # db_url: a clean database per test
    return _config(tmp_path)


def test_scripted_console_session(cli_config: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "console", "--config", str(cli_config)],
        input=SESSION,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cli_config.parent,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "[#general] (only admin) Commands you can use here:"
    assert (
        "[#general] (only admin) Created group ideas (internal). Link a channel to it "
        "with /link ideas." in lines
    )
    assert (
        "[#general] This channel is now linked to the group ideas. Type /help to see "
        "what you can do here." in lines
    )
    assert (
        "[#random] This channel is now linked to the group ideas. Type /help to see "
        "what you can do here." in lines
    )
    assert "[#random] (only bob) Only admins may use /link." in lines
    assert "[#random] (only bob) Only admins may use /group new." in lines
    assert (
        "[#random] (only bob) I don't know the command /frobnicate. Type /help for the "
        "commands you can use." in lines
    )
    assert "  • ideas (internal) — #general [console], #random [console]" in lines
    assert "never-read" not in result.stdout


def test_db_upgrade(cli_config: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "db", "upgrade", "--config", str(cli_config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_answers_healthz_and_stops_on_sigterm(tmp_path: Path, db_url: str) -> None:
    port = _free_port()
    config = _config(tmp_path, port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "run", "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    body = json.loads(r.read())
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.2)
        assert body is not None and body["status"] == "ok"
        assert body["adapters"] == {"console": {"state": "ready"}}
        assert body["outbox"]["pending"] == 0 and body["outbox"]["oldest_pending_seconds"] == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            assert b"bridge_adapter_ready" in r.read()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        stderr = proc.stderr.read() if proc.stderr else ""
        assert "setup plugin" not in stderr and "alembic" not in stderr  # quiet at INFO
        assert "Traceback" not in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_refuses_unknown_or_unconfigured_adapters(cli_config: Path) -> None:
    for adapters, expected in (
        ("irc", "error: unknown adapter 'irc' (known: console, slack, telegram, discord)"),
        ("telegram", "error: telegram is not configured: add its credentials to [telegram]"),
    ):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "bridge",
                "run",
                "--config",
                str(cli_config),
                "--adapters",
                adapters,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2
        assert result.stderr.startswith(expected), result.stderr


def test_run_with_a_busy_port_says_so(tmp_path: Path, db_url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = _config(tmp_path, port)
        result = subprocess.run(
            [sys.executable, "-m", "bridge", "run", "--config", str(config)],
            input="",
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "choose another [http] port" in result.stderr


# ------------------------------------------------------------------ the first hour (issue 16)


def test_console_prints_user_text_as_text_not_terminal_codes(cli_config: Path) -> None:
    script = (
        "/group new ideas\n/link ideas\n"
        "/idea Red \x1b[31malert\x1b[0m \x1b]0;owned\x07 bi\u202edi | zero\x00byte\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "console", "--config", str(cli_config)],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cli_config.parent,
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\x00" not in result.stdout and "\u202e" not in result.stdout
    # control characters and bidi overrides are gone before anything stores them (issue
    # 13); what is left is plain text
    assert "Red [31malert[0m ]0;owned bidi" in result.stdout
    assert "zerobyte" in result.stdout


CARDS = """\
:channel a
/group new ideas
/link ideas
:channel b
/link ideas
:channel c
/link ideas
/idea Bike racks
/idea Standing desks
:press 1
"""


def test_console_ends_quietly_at_end_of_input_and_on_sigterm(
    cli_config: Path, tmp_path: Path
) -> None:
    outputs = []
    for n in range(3):
        config = tmp_path / f"run{n}.toml"
        config.write_text(cli_config.read_text().replace("bot.db", f"run{n}.db"), encoding="utf-8")
        if BACKEND == "postgres":
            config = cli_config
        result = subprocess.run(
            [sys.executable, "-m", "bridge", "console", "--config", str(config)],
            input="/help\n/groups\n" if BACKEND == "postgres" else CARDS,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=cli_config.parent,
        )
        assert result.returncode == 0
        assert result.stderr == ""
        outputs.append(result.stdout)
    # the cards reach the three channels in the same order every run: :press 1 is the same
    assert outputs[0] == outputs[1] == outputs[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "console", "--config", str(cli_config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cli_config.parent,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("/help\n")
    proc.stdin.flush()
    assert proc.stdout.readline().startswith("[#general] (only admin) Commands you can use")
    proc.send_signal(signal.SIGTERM)  # stdin still open: the session ends all the same
    try:
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in err and "CancelledError" not in err


def test_check_and_run_say_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config = tmp_path / "bot.toml"
    config.write_text(f'[database]\nurl = "postgresql://nobody@127.0.0.1:{port}/x"\n')
    for command in (["check"], ["run"], ["db", "upgrade"]):
        result = subprocess.run(
            [sys.executable, "-m", "bridge", *command, "--config", str(config)],
            input="",
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert result.returncode == 2, (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert f"postgresql+asyncpg://nobody@127.0.0.1:{port}/x" in result.stderr
        assert "ConnectionRefusedError" in result.stderr


@pytest.mark.postgres
def test_two_processes_migrating_a_fresh_database_at_once_both_succeed(
    tmp_path: Path, pg_url: str
) -> None:
    import asyncio

    import asyncpg

    name = f"cb_race_{os.getpid()}"
    admin = pg_url.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]

    async def sql(statement: str) -> None:
        conn = await asyncpg.connect(admin + "/postgres")
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(sql(f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(sql(f'CREATE DATABASE "{name}"'))
    try:
        config = tmp_path / "bot.toml"
        url = pg_url.rsplit("/", 1)[0] + "/" + name
        config.write_text(f'[database]\nurl = "{url}"\n')
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bridge", "db", "upgrade", "--config", str(config)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
        assert [code for code, _ in results] == [0, 0], results
    finally:
        asyncio.run(sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _check(tmp_path: Path, toml: str, *command: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "bot.toml"
    config.write_text(toml, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bridge", *(command or ("check",)), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def test_check_refuses_urls_the_platforms_would_refuse(tmp_path: Path) -> None:
    """Telegram webhooks need https on 443, 80, 88 or 8443 and a public host; Slack's
    request URLs need https. ``check`` fails naming the key; values that only work
    locally get a warning."""
    webhook = '[telegram]\ntoken = "1:x"\nmode = "webhook"\nwebhook_secret = "s"\n'
    for url, reason in (
        ("http://127.0.0.1:8080", "Telegram calls only https:// URLs"),
        ("https://bot.example.org:8080", "ports 443, 80, 88, 8443, not 8080"),
        ("https://localhost", "on this machine or a private network"),
    ):
        done = _check(tmp_path, f'{webhook}[http]\npublic_url = "{url}"\n')
        assert done.returncode == 2, done.stdout
        assert "error: http.public_url: the Telegram webhook would be refused" in done.stderr
        assert reason in done.stderr, done.stderr
    done = _check(tmp_path, f'{webhook}[http]\npublic_url = "https://bot.example.org:8443"\n')
    assert done.returncode == 0, done.stderr

    slack_http = '[slack]\nbot_token = "xoxb-1"\nsigning_secret = "s"\n'
    done = _check(tmp_path, f'{slack_http}[http]\npublic_url = "http://bot.example.org"\n')
    assert done.returncode == 2
    assert "error: http.public_url: Slack's request URLs (/slack/events) would be refused" in (
        done.stderr
    )
    manifest = _check(
        tmp_path, f'{slack_http}[http]\npublic_url = "http://bot.example.org"\n', "slack-manifest"
    )
    assert manifest.returncode == 2 and manifest.stdout == ""
    assert "Socket Mode" in manifest.stderr
    socket_mode = '[slack]\nbot_token = "xoxb-1"\napp_token = "xapp-1"\n'
    done = _check(tmp_path, f'{socket_mode}[http]\npublic_url = "http://127.0.0.1:8080"\n')
    assert done.returncode == 0, done.stderr  # Socket Mode: Slack calls no URL of ours
    assert "warning: http.public_url: http://127.0.0.1:8080 is on this machine" in done.stderr


def test_check_says_what_the_relay_still_needs(cli_config: Path) -> None:
    """Issue 17: with a group relaying, `check` names what a platform still needs."""
    path, tmp_path = cli_config, cli_config.parent
    with path.open("a", encoding="utf-8") as out:
        out.write('[discord]\ntoken = "x"\n[telegram]\ntoken = "1:A"\n')
    script = "/group new lobby\n/group set lobby relay\n"
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "console", "--config", str(path)],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert "relay: on in lobby" in result.stdout
    assert "message_content = true" in result.stderr
    assert "privacy mode off" in result.stdout
