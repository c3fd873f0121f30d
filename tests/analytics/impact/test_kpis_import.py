"""``import_kpis``: CSV import with the API's rules, a rejected-rows file and a summary."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from analytics.models import KpiObservation

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = """kpi,period_start,granularity,value,region
revenue,2026-01-05,week,1000,north
revenue,2026-01-12,week,1100,north
revenue,2026-01-26,week,1200,north
churn-rate,2026-01-01,month,130,
happiness,2026-01-05,week,1,
revenue,2026-01-06,week,5,north
"""


def _run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_kpis", str(path), "--no-progress", *args, stdout=out)
    return out.getvalue()


def test_import_stores_valid_rows_and_writes_rejected_ones_with_reasons(tmp_path: Path) -> None:
    """Three good rows are stored; three bad ones land in FILE.rejected.csv with reasons."""
    path = tmp_path / "kpis.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")

    output = _run(path)

    assert "6 rows: 3 created, 0 duplicates, 3 rejected" in output
    assert "2026-01-19" in output  # the gap is reported
    assert KpiObservation.objects.filter(kpi__slug="revenue", region="north").count() == 3
    rejected = (tmp_path / "kpis.rejected.csv").read_text(encoding="utf-8").splitlines()
    assert rejected[0] == "line,kpi,period_start,granularity,value,region,errors"
    assert rejected[1].startswith("5,churn-rate") and "between 0 and 100" in rejected[1]
    assert rejected[2].startswith("6,happiness") and "Valid KPIs" in rejected[2]
    assert rejected[3].startswith("7,revenue") and "Monday" in rejected[3]


def test_importing_twice_creates_nothing_new(tmp_path: Path) -> None:
    """A re-run counts every stored row as a duplicate."""
    path = tmp_path / "kpis.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    _run(path)
    output = _run(path, "--chunk-size", "2")
    assert "3 created" not in output and "3 duplicates" in output
    assert KpiObservation.objects.count() == 3


def test_default_kpi_fills_rows_without_one(tmp_path: Path) -> None:
    """--kpi names the KPI when the file has no kpi column."""
    path = tmp_path / "churn.csv"
    path.write_text("period_start,granularity,value\n2026-01-01,month,2.5\n2026-02-01,month,2.1\n")
    assert "2 created" in _run(path, "--kpi", "churn-rate")
    assert not (tmp_path / "churn.rejected.csv").exists()


@pytest.mark.parametrize(
    ("content", "args", "fragment"),
    [
        ("period,value\n2026-01-05,1\n", (), "missing column(s): period_start"),
        ("kpi,period_start,value,colour\n", (), "unknown column(s): colour"),
        ("", (), "empty"),
        ("period_start,value\n2026-01-05,1\n", ("--kpi", "nope"), "Unknown KPI 'nope'"),
    ],
)
def test_a_bad_file_is_a_readable_command_error(
    tmp_path: Path, content: str, args: tuple[str, ...], fragment: str
) -> None:
    """Wrong headers, empty files and unknown KPIs stop the import with a message."""
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        _run(path, *args)
    assert not KpiObservation.objects.exists()


def test_a_missing_file_is_a_command_error(tmp_path: Path) -> None:
    """The command names the file it could not find."""
    with pytest.raises(CommandError, match="No such file"):
        _run(tmp_path / "nope.csv")
