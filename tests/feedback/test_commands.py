"""create_api_key and import_feedback: the CLI follows the API's rules and fails readably."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from feedback.models import Response, Source, SourceAPIKey

pytestmark = pytest.mark.usefixtures("organisation")


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_create_api_key_prints_a_working_key_as_the_last_line(db: None) -> None:
    """The printed key authenticates as the (new) source."""
    output = _run("create_api_key", "--source", "crm", "--kind", "crm")

    key = output.strip().splitlines()[-1]
    source = Source.objects.get(name="crm")
    assert source.kind == "crm"
    assert SourceAPIKey.objects.get(source=source).is_valid(key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    answer = client.post(
        "/api/v1/feedback/",
        {"external_id": "k", "submitted_at": "2026-03-01T10:15:00Z", "nps": 9},
        format="json",
    )
    assert answer.status_code == 201
    assert answer.json()["source"] == "crm"


def test_create_api_key_reuses_an_existing_source(db: None) -> None:
    """A second key for a source keeps the source and adds a key."""
    _run("create_api_key", "--source", "crm")
    _run("create_api_key", "--source", "crm")
    assert Source.objects.filter(name="crm").count() == 1
    assert SourceAPIKey.objects.filter(source__name="crm").count() == 2


def test_create_api_key_refuses_an_unknown_kind(db: None) -> None:
    """An unknown kind is a readable command error."""
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("create_api_key", "--source", "x", "--kind", "carrier-pigeon")


CSV_TEXT = (
    "external_id,submitted_at,nps,touchpoint,rating_wait_time,attr_region,comment\n"
    "i1,2026-03-01T10:15:00Z,9,billing-call,4,north,Great\n"
    "i2,2026-03-01T11:15:00Z,11,,,,Too high a score\n"
    "i3,2026-03-01T12:15:00Z,5,nowhere,,,Unknown touchpoint\n"
    'i4,2026-03-01T13:15:00Z,3,,,south,"Multi\nline"\n'
    "i5,2026-03-01T14:15:00,7,,,,No zone\n"
)


@pytest.fixture
def feedback_csv(tmp_path: Path) -> Path:
    path = tmp_path / "feedback.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    return path


def test_import_stores_valid_rows_and_writes_rejected_rows_with_reasons(feedback_csv: Path) -> None:
    """Valid rows are stored; rejected rows land in FILE.rejected.csv with a reasons column."""
    output = _run("import_feedback", str(feedback_csv), "--source", "legacy", "--no-progress")

    assert "5 rows read: 2 created, 0 duplicates, 3 rejected" in output
    assert set(Response.objects.values_list("external_id", flat=True)) == {"i1", "i4"}
    assert Source.objects.get(name="legacy").kind == "import"
    assert Response.objects.get(external_id="i4").comment == "Multi\nline"
    rejected_path = feedback_csv.with_suffix(".rejected.csv")
    with rejected_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["external_id"] for row in rows] == ["i2", "i3", "i5"]
    assert [row["line"] for row in rows] == ["3", "4", "7"]
    assert rows[0]["nps"] == "11"
    assert "nps:" in rows[0]["reasons"] and "0 to 10" in rows[0]["reasons"]
    assert "touchpoint:" in rows[1]["reasons"]
    assert "time zone" in rows[2]["reasons"]


def test_importing_twice_imports_nothing_twice(feedback_csv: Path, tmp_path: Path) -> None:
    """A second run finds every valid row already stored."""
    _run("import_feedback", str(feedback_csv), "--source", "legacy", "--no-progress")
    rejected = tmp_path / "again.csv"

    output = _run(
        "import_feedback",
        str(feedback_csv),
        "--source",
        "legacy",
        "--no-progress",
        "--rejected-file",
        str(rejected),
    )

    assert "2 duplicates" in output and "0 created" in output
    assert Response.objects.count() == 2
    assert rejected.exists()


def test_import_in_small_chunks_gives_the_same_result(feedback_csv: Path) -> None:
    """Chunking changes nothing about what is stored or rejected."""
    output = _run(
        "import_feedback",
        str(feedback_csv),
        "--source",
        "legacy",
        "--no-progress",
        "--chunk-size",
        "2",
    )
    assert "2 created, 0 duplicates, 3 rejected" in output
    rows = list(
        csv.DictReader(feedback_csv.with_suffix(".rejected.csv").open(encoding="utf-8", newline=""))
    )
    assert [row["external_id"] for row in rows] == ["i2", "i3", "i5"]


def test_import_keeps_undecodable_rows_in_the_rejected_file(tmp_path: Path) -> None:
    """A row with invalid UTF-8 is rejected alone and written back byte for byte."""
    path = tmp_path / "latin.csv"
    path.write_bytes(
        b"external_id,submitted_at,comment\nok,2026-03-01T10:15:00Z,fine\nbad,2026-03-01T10:15:00Z,caf\xe9\n"
    )

    output = _run("import_feedback", str(path), "--source", "legacy", "--no-progress")

    assert "1 created" in output and "1 rejected" in output
    assert b"caf\xe9" in path.with_suffix(".rejected.csv").read_bytes()


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "No such file"),
        ("external_id,score\nx,1\n", [], "score"),
        ("", [], "empty"),
        (CSV_TEXT, ["--kind", "pigeon"], "Unknown source kind"),
        (CSV_TEXT, ["--chunk-size", "0"], "at least 1"),
    ],
)
def test_import_errors_are_readable(
    tmp_path: Path, content: str | None, args: list[str], message: str
) -> None:
    """Missing file, bad header, empty file or bad options: a CommandError, not a traceback."""
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        call_command("import_feedback", str(path), "--source", "legacy", "--no-progress", *args)
    assert Response.objects.count() == 0


def test_import_shows_a_progress_bar(feedback_csv: Path, capsys: Any) -> None:
    """Without --no-progress a tqdm bar is written to stderr."""
    err = io.StringIO()
    call_command(
        "import_feedback", str(feedback_csv), "--source", "legacy", stdout=io.StringIO(), stderr=err
    )
    assert "rows" in err.getvalue()


def test_a_corrected_rejected_file_imports_as_it_is(feedback_csv: Path) -> None:
    """The rejected file's line and reasons columns are ignored when it is imported again."""
    _run("import_feedback", str(feedback_csv), "--source", "legacy", "--no-progress")
    rejected = feedback_csv.with_suffix(".rejected.csv")
    fixed = rejected.read_text(encoding="utf-8").replace(",11,", ",10,").replace(",nowhere,", ",,")
    fixed = fixed.replace("2026-03-01T14:15:00,", "2026-03-01T14:15:00Z,")
    corrected = feedback_csv.with_name("corrected.csv")
    corrected.write_text(fixed, encoding="utf-8")

    output = _run("import_feedback", str(corrected), "--source", "legacy", "--no-progress")

    assert "3 created, 0 duplicates, 0 rejected" in output
    assert Response.objects.count() == 5
