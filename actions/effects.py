"""What an action achieved, as the apps that measure it report it (ADR 0050).

``actions`` may not import ``analytics`` or ``dashboards``, yet its pages are where a user
looks for an action's measured effect. This module is the seam: it defines what the pages
need, and the measuring apps fill it from their ``AppConfig.ready`` (as ``feedback``'s
post-ingest processors are filled), so the dependency still points one way:

* ``analytics`` registers ``effects`` (the primary metric's effect per action, one query for
  a page of actions) and ``measurement_note`` (when an implemented action will be measured
  and why);
* ``dashboards`` registers ``proof`` (the action page's section with every estimate, its
  interval, money value, ROI and the KPI chart).

Without a registration the pages show no effect column or proof section, never a made-up one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.safestring import SafeString

from actions.models import Action


@dataclass(frozen=True)
class EffectSummary:
    """One action's headline effect as its row on a list shows it.

    ``state`` is ``measured`` (``text`` holds the effect with its interval), ``scheduled``
    (``measured_on`` says when) or ``not_measurable`` (``text`` says why).
    """

    state: str
    text: str
    metric: str = ""
    measured_on: dt.date | None = None
    significant: bool = False


EffectReader = Callable[[Sequence[Action]], dict[int, EffectSummary]]
MeasurementNote = Callable[[Action], str]
ProofSection = Callable[[HttpRequest, Action], SafeString]

_effects: list[EffectReader] = []
_measurement_notes: list[MeasurementNote] = []
_proofs: list[ProofSection] = []


def register_effect_reader(reader: EffectReader) -> None:
    if reader not in _effects:
        _effects.append(reader)


def register_measurement_note(note: MeasurementNote) -> None:
    if note not in _measurement_notes:
        _measurement_notes.append(note)


def register_proof_section(section: ProofSection) -> None:
    if section not in _proofs:
        _proofs.append(section)


def effects_for(actions: Sequence[Action]) -> dict[int, EffectSummary]:
    """The headline effect of each action (by id) from the registered reader."""
    found: dict[int, EffectSummary] = {}
    for reader in _effects:
        found.update(reader(actions))
    return found


def effects_attach(actions: Sequence[Action]) -> Sequence[Action]:
    """Set ``measured_effect`` (an ``EffectSummary`` or None) on each action for a list page's
    effect column: one read for all of them, none per row."""
    found = effects_for(actions)
    for action in actions:
        action.measured_effect = found.get(action.pk)  # type: ignore[attr-defined]
    return actions


def measurement_note(action: Action) -> str:
    """When the action's effect will be measured and why, or '' without a measuring app."""
    return " ".join(note(action) for note in _measurement_notes).strip()


def proof_section(request: HttpRequest, action: Action) -> SafeString:
    """The action page's measured-effect section, or '' without a dashboards app."""
    return SafeString("".join(section(request, action) for section in _proofs))
