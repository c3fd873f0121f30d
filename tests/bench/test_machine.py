"""The bench's account of where it ran (``bench/machine.py``), written into its JSON."""

from __future__ import annotations

import shlex

from bench import machine


def test_machine_facts_name_the_cpu_cores_ram_and_versions() -> None:
    facts = machine.machine_facts("postgres://nobody@127.0.0.1:1/none")
    assert facts["cpu_model"]
    assert isinstance(facts["cores"], int) and facts["cores"] >= 1
    assert facts["ram_gb"] is None or facts["ram_gb"] > 0
    assert facts["python"].count(".") == 2
    assert facts["postgresql"] is None  # nothing listens there: unknown, not a failure
    assert "PostgreSQL unknown" in machine.describe(facts)


def test_the_command_can_be_typed_again() -> None:
    line = machine.command_line(["--quick", "--json", "out dir/r.json"])
    assert shlex.split(line) == ["python", "-m", "bench", "--quick", "--json", "out dir/r.json"]


def test_load_average_is_three_numbers() -> None:
    load = machine.load_average()
    assert len(load) == 3 and all(value >= 0 for value in load)
