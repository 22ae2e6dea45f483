"""Print the msgids used in the code that the German catalog lacks, as .po entries.

    python scripts/missing_translations.py [PATH ...]  >> bridge/locale/de/LC_MESSAGES/<feature>.po
    python scripts/missing_translations.py --check      # CI: exit 1 on any gap

With no PATH, every source file of bridge/, commands/ and adapters/ is read. Uses Babel's
own extractor (keywords _, N_, gettext, ngettext, and ctx._ / ctx.fmt / t.gettext calls).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.extract import extract_from_file

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {
    "_": None,
    "N_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "fmt": None,
}


def msgids(paths: list[Path]) -> Iterator[tuple[str | tuple[str, str], Path, int]]:
    for path in paths:
        for lineno, message, _comments, _ctx in extract_from_file(
            "python", str(path), keywords=KEYWORDS, comment_tags=()
        ):
            if isinstance(message, tuple):
                if len(message) >= 2 and message[0] and message[1]:
                    yield (message[0], message[1]), path, lineno
                elif message and message[0]:
                    yield message[0], path, lineno
            elif message:
                yield message, path, lineno


def source_files() -> list[Path]:
    files: list[Path] = []
    for folder in ("bridge", "commands", "adapters"):
        found = sorted((ROOT / folder).rglob("*.py"))
        files.extend(p for p in found if "migrations" not in p.parts)
    return files


def missing(paths: list[Path] | None = None) -> list[tuple[str | tuple[str, str], Path, int]]:
    from bridge.i18n import translator

    t = translator("de")
    out = []
    seen: set[object] = set()
    for msg, path, line in msgids(paths or source_files()):
        if msg in seen:
            continue
        seen.add(msg)
        if isinstance(msg, tuple):
            if t.ngettext(msg[0], msg[1], 1) == msg[0] and t.ngettext(msg[0], msg[1], 2) == msg[1]:
                out.append((msg, path, line))
        elif t.gettext(msg) == msg and msg.strip():
            out.append((msg, path, line))
    return out


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> int:
    args = sys.argv[1:]
    check = "--check" in args
    paths = [Path(p).resolve() for p in args if p != "--check"] or None
    gaps = missing(paths)
    if check:
        for msg, path, line in gaps:
            print(f"untranslated: {path.relative_to(ROOT)}:{line}: {msg!r}", file=sys.stderr)
        return 1 if gaps else 0
    for msg, path, line in gaps:
        print(f"#: {path.relative_to(ROOT)}:{line}")
        if isinstance(msg, tuple):
            print(f"msgid {_quote(msg[0])}\nmsgid_plural {_quote(msg[1])}")
            print('msgstr[0] ""\nmsgstr[1] ""\n')
        else:
            print(f'msgid {_quote(msg)}\nmsgstr ""\n')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
