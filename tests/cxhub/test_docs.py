"""The README and docs/ point only at files the repository has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
# A code span that names a file or folder: `feedback/services.py`, `docs/adr/`.
CODE_PATH = re.compile(r"`([A-Za-z0-9_.\-]+/[A-Za-z0-9_./\-]*)`")
# `app/0005_name` is how Django names a migration, not a path.
MIGRATION = re.compile(r"^[a-z_]+/\d{4}_[a-z0-9_]+$")
TOP_LEVEL = {path.name for path in ROOT.iterdir() if not path.name.startswith(".")} | {"shared"}


def _name(document: Path) -> str:
    return str(document.relative_to(ROOT))


@pytest.mark.parametrize("document", DOCUMENTS, ids=_name)
def test_every_relative_link_resolves_to_a_file(document: Path) -> None:
    """A Markdown link that is not a URL or an anchor opens a file or folder of the repo."""
    broken = []
    for target in LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        path = (document.parent / target.split("#", 1)[0]).resolve()
        if not path.exists() or ROOT not in path.parents:
            broken.append(target)
    assert broken == []


def _current_text(document: Path) -> str:
    """The document without the cells of a table column headed ``old`` (where files were)."""
    lines = []
    old_column: int | None = None
    for line in document.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            old_column = None
            lines.append(line)
            continue
        cells = line.split("|")
        headers = [cell.strip().lower() for cell in cells]
        if old_column is None and "old" in headers:
            old_column = headers.index("old")
        if old_column is not None and old_column < len(cells):
            cells[old_column] = ""
        lines.append("|".join(cells))
    return "\n".join(lines)


# Decision records tell what the code was when they were written; their paths are history.
CURRENT_DOCUMENTS = [d for d in DOCUMENTS if "adr" not in d.relative_to(ROOT).parts]


@pytest.mark.parametrize("document", CURRENT_DOCUMENTS, ids=_name)
def test_every_path_in_code_spans_exists(document: Path) -> None:
    """`folder/file` mentions under a top-level folder of the repo name something that exists
    (a table's ``old`` column, recording where files used to be, is history, not a mention)."""
    missing = [
        mention
        for mention in CODE_PATH.findall(_current_text(document))
        if mention.split("/", 1)[0] in TOP_LEVEL
        and not MIGRATION.match(mention)
        and not (ROOT / mention).exists()
    ]
    assert missing == []
