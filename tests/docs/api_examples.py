"""Reading the curl examples and the endpoint index out of ``docs/api.md``.

An example is a command starting with ``curl`` inside a fenced ``bash`` block. Comments in
the block say how to run it, in words a reader can follow too:

- ``# role: CX manager`` (or ``line manager``, ``viewer``, ``source API key``): whose
  ``$CXHUB_TOKEN`` the following commands use;
- ``# -> 400`` on or just above a command: the status it answers (default: any 2xx);
- ``keep "id" as ACTION_ID`` (or ``keep "id" of the first result as RESPONSE_ID``): the
  value later examples use as ``$ACTION_ID``.
"""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
DOC_HOST = "http://127.0.0.1:8000"

_FENCE = re.compile(r"^```(\w*)\s*$")
_ROLE = re.compile(r"^#\s*role:\s*([^(]+?)\s*(\(.*\))?\s*$")
_EXPECT = re.compile(r"#.*?->\s*(\d{3})\b")
_KEEP = re.compile(r'keep\s+"(\w+)"(\s+of the first result)?\s+as\s+([A-Z][A-Z0-9_]*)')
_HEREDOC = re.compile(r"<<-?\s*'?\"?(\w+)'?\"?")
_DATA_FLAGS = {"-d", "--data", "--data-binary", "--data-raw"}
_URL = re.compile(re.escape(DOC_HOST) + r"(/[^\s\"'?]*)")
_INDEX_ROW = re.compile(r"^\|\s*`(GET|POST|PATCH|PUT|DELETE) (/api/v1/[^`]*)`\s*\|")


@dataclass(frozen=True)
class Keep:
    key: str
    variable: str
    first_result: bool


@dataclass(frozen=True)
class Example:
    line: int
    command: str
    role: str | None
    expect: int | None
    keeps: tuple[Keep, ...] = field(default=())

    @property
    def method(self) -> str:
        """``-X`` if given, else POST with a body and GET without (as curl does)."""
        words = shlex.split(self.command.split("\n<<")[0].split("<<")[0], comments=True)
        for flag, value in itertools.pairwise(words):
            if flag in ("-X", "--request"):
                return value.upper()
        return "POST" if any(word in _DATA_FLAGS for word in words) else "GET"

    @property
    def path(self) -> str:
        found = _URL.search(self.command)
        return found.group(1) if found else ""


def _complete(lines: list[str]) -> bool:
    text = "\n".join(lines)
    heredoc = _HEREDOC.search(text)
    if heredoc:
        return len(lines) > 1 and lines[-1].strip() == heredoc.group(1)
    if text.rstrip().endswith("\\"):
        return False
    try:
        shlex.split(text, comments=True)
    except ValueError:  # an open quote: the command goes on
        return False
    return True


def _annotations(text: str) -> tuple[int | None, tuple[Keep, ...]]:
    expect = _EXPECT.search(text)
    keeps = tuple(
        Keep(key=m.group(1), variable=m.group(3), first_result=bool(m.group(2)))
        for m in _KEEP.finditer(text)
    )
    return (int(expect.group(1)) if expect else None), keeps


def bash_blocks(text: str) -> list[tuple[int, list[str]]]:
    """``(first line number, lines)`` of every fenced ``bash`` block."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        fence = _FENCE.match(line)
        if current is None and fence and fence.group(1) == "bash":
            current, start = [], number + 1
        elif current is not None and line.startswith("```"):
            blocks.append((start, current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def curl_examples(text: str) -> list[Example]:
    """Every ``curl`` command of the bash blocks, with the role and answer it documents."""
    examples: list[Example] = []
    for start, lines in bash_blocks(text):
        role: str | None = None
        pending: list[str] = []
        index = 0
        while index < len(lines):
            line = lines[index].strip()
            role_match = _ROLE.match(line)
            if role_match:
                role = role_match.group(1).strip()
                index += 1
                continue
            if not line or line.startswith("#"):
                pending = [*pending, line] if line else []
                index += 1
                continue
            command = [lines[index]]
            while not _complete(command) and index + len(command) < len(lines):
                command.append(lines[index + len(command)])
            if line.startswith("curl"):
                expect, keeps = _annotations("\n".join([*pending, *command]))
                examples.append(
                    Example(
                        line=start + index,
                        command="\n".join(command),
                        role=role,
                        expect=expect,
                        keeps=keeps,
                    )
                )
            pending = []
            index += len(command)
    return examples


def index_entries(text: str) -> list[tuple[str, str, int]]:
    """``(method, path, line)`` of the rows of the endpoint index table."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        row = _INDEX_ROW.match(line)
        if row:
            entries.append((row.group(1), row.group(2), number))
    return entries
