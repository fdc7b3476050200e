"""The chapters: one package each, ``coursekit.chapters.<topic>`` (``course.toml`` lists them).

Every chapter's package has the same parts, each optional but the checks and probes:

- ``__init__``: the chapter's face, the names its notebook imports;
- ``given``: the code a learner is given (types, stand-ins, helpers);
- ``checks``: the graded checks, one ``check_*`` per behaviour;
- ``probes``: ``PROBES``, the hidden scenarios of each graded cell (:mod:`coursekit.probing`);
- ``pictures``: the picture runs (:mod:`coursekit.traces`), whose reference runs are saved in
  ``reference_trace.json``;
- ``analysis``: what the chapter's runs did, read from their events; ``plots``: their pictures.

What several chapters share (virtual time, events, traced queues, the workload, the check chain,
the scenario kit, the shared measures and pictures) is the core, one level up in :mod:`coursekit`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

FOLDER = Path(__file__).resolve().parent


def part(topic: str, name: str) -> ModuleType:
    """The module ``name`` (``"checks"``, ``"probes"``, ``"pictures"``, ...) of the chapter on ``topic``."""
    return importlib.import_module(f"{__name__}.{topic}.{name}")


def has_part(topic: str, name: str) -> bool:
    """Whether the chapter on ``topic`` has the module ``name``."""
    return (FOLDER / topic / f"{name}.py").is_file()


def trace_file(topic: str) -> Path:
    """Where the reference's runs of the chapter's picture runs are saved."""
    return FOLDER / topic / "reference_trace.json"
