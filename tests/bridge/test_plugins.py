"""Platforms and command packs are plug-ins: a third-party adapter package, installed with
pip from ``tests/plugin_example``, is found through its entry point, configured from its own
``bot.toml`` section, listed by ``check``, started by ``run``, and brings its CLI verb and
its commands."""

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

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tests" / "plugin_example"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(PLUGIN),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert list(target.glob("cb_echo-*.dist-info"))
    return target


def _env(plugin_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "ECHO_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_path), str(ROOT)])
    env.update(extra)
    return env


def _cli(plugin_path: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        cwd=cwd,
        env=_env(plugin_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_lists_the_plugin_with_its_own_section(plugin_path: Path, tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('[echo]\ntoken = "t"\ngreeting = "moin"\n')
    result = _cli(plugin_path, "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "  echo: on (greeting 'moin')" in result.stdout.splitlines()
    assert "  telegram: off (no token)" in result.stdout.splitlines()

    config.write_text('[echo]\ntoken = "t"\ngreting = "typo"\n')
    result = _cli(plugin_path, "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {config}: unknown key 'echo.greting'"

    config.write_text("")
    result = _cli(plugin_path, "check", "--config", str(config), cwd=tmp_path, ECHO_TOKEN="e")
    assert "  echo: on (greeting 'hello')" in result.stdout.splitlines()


def test_the_plugin_brings_its_command_line_verb(plugin_path: Path, tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('[echo]\ngreeting = "servus"\n')
    result = _cli(plugin_path, "echo-hello", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo says servus\n"
    helped = _cli(plugin_path, "--help", cwd=tmp_path)
    assert "echo-hello" in helped.stdout and "slack-manifest" in helped.stdout


def test_run_starts_the_plugin_and_its_commands_are_there(
    plugin_path: Path, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    marker = tmp_path / "started.json"
    config = tmp_path / "bot.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "c.db"}"\n'
        f'[http]\nport = {port}\n[echo]\ntoken = "t"\ngreeting = "ahoi"\nmarker = "{marker}"\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge", "run", "--config", str(config)],
        cwd=tmp_path,
        env=_env(plugin_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = None
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = json.loads(r.read())
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        assert health is not None, proc.stderr.read() if proc.stderr else ""
        assert health["adapters"] == {"echo": {"state": "ready"}}
        started = json.loads(marker.read_text())
        assert started["greeting"] == "ahoi"
        assert "echo" in started["commands"] and "idea" in started["commands"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0
