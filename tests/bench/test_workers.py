"""``python -m bench.workers``: its arguments and its table (the run itself needs a loaded
database and a broker; docs/scaling.md has the command and its figures)."""

from __future__ import annotations

import pytest

from bench import workers


@pytest.mark.parametrize("argv", [["--processes", "0"], ["--comments", "0"], ["--fan-out", "1"]])
def test_arguments_out_of_range_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        workers.main(argv)
    assert refused.value.code == 2


def test_the_table_compares_two_processes_with_one(capsys: pytest.CaptureFixture[str]) -> None:
    results = [
        {
            "processes": count,
            "tagging_comments_per_s": 1_000.0 * count,
            "drivers_fanned_out_seconds": 4.0 / count,
            "drivers_one_task_seconds": 3.0,
        }
        for count in (1, 2)
    ]
    workers.print_table(results)
    printed = capsys.readouterr().out
    assert "2 processes against 1: tagging × 2.00, fanned-out drivers × 2.00" in printed
    assert "2,000" in printed


def test_the_worker_consumes_the_queues_of_tagging_and_analyses() -> None:
    from django.conf import settings

    consumed = set(workers.QUEUES.split(","))
    assert {"ingest", "analyses"} <= consumed <= set(settings.CXHUB_TASK_QUEUES)
