"""Reference traces: the recorded runs of the reference solutions that pictures compare against.

A chapter's picture runs (``coursekit/chapters/<topic>/pictures.py``) are functions that take
an implementation (the learner's, or the reference) and return a
:class:`~coursekit.virtual_time.VirtualRun`. The build (``tools/build.py``) runs each one
with the reference solution and saves the run in ``coursekit/chapters/<topic>/reference_trace.json``;
notebooks load it with :func:`reference_run`, so no learner kernel and no grader needs
the answers in ``solutions/``. ``tests/test_reference_traces.py`` fails when a saved trace
is no longer what the reference does.

The saved form keeps what pictures use: the outcome, the elapsed virtual seconds, the
deadline, the returned value and every event. Tasks that asyncio named itself
(``Task-57``: a process-wide counter) are renamed ``task-1``, ``task-2``, ... in order of
first appearance, so a trace does not depend on what ran before it. Values JSON cannot hold as they are
(tuples, enums, exceptions, futures, sentinels) come back as tuples and as
:class:`Opaque` stand-ins that compare equal when their ``repr`` did.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, TypeVar

from coursekit.chapters import trace_file
from coursekit.events import Event
from coursekit.virtual_time import VirtualRun

F = TypeVar("F", bound=Callable[..., VirtualRun[Any]])


class PictureRun(Protocol):
    """A function marked with :func:`picture_run`: it takes an implementation and returns its run."""

    reference_subject: str

    def __call__(self, implementation: Any, /) -> VirtualRun[Any]: ...


@dataclass(frozen=True)
class Opaque:
    """A value that was saved by its ``repr`` (an exception, a future, a sentinel)."""

    text: str

    def __repr__(self) -> str:
        return self.text


def picture_run(subject: str) -> Callable[[F], F]:
    """Mark a picture run: a function of one implementation, named ``subject`` in the reference.

    ``@picture_run("run_pipeline")`` on ``def pipeline(run_pipeline) -> VirtualRun`` tells the
    build to record ``pipeline(solutions.<topic>.run_pipeline)`` as the reference trace
    ``pipeline``."""

    def mark(function: F) -> F:
        function.reference_subject = subject  # type: ignore[attr-defined]  # a function attribute, read back as PictureRun
        return function

    return mark


def picture_runs(module: ModuleType) -> dict[str, PictureRun]:
    """The picture runs a module defines, by name."""
    return {
        name: value for name, value in vars(module).items() if callable(value) and hasattr(value, "reference_subject")
    }


def reference_run(topic: str, name: str) -> VirtualRun[Any]:
    """The reference solution's run of picture run ``name`` of chapter ``topic``, as recorded."""
    path = trace_file(topic)
    traces = json.loads(path.read_text(encoding="utf-8"))
    if name not in traces:
        raise KeyError(f"{path.name} has no trace {name!r}; rebuild the chapter (tools/build.py)")
    return from_json(traces[name])


def to_json(run: VirtualRun[Any]) -> dict[str, Any]:
    """A JSON-ready form of ``run`` (see the module's docstring for what is kept)."""
    names = _TaskNames()
    return {
        "outcome": run.outcome,
        "elapsed": run.elapsed,
        "deadline": run.deadline,
        "value": _encode(run.value),
        "events": [[event.time, event.kind, names(event.task), _encode(dict(event.fields))] for event in run.events],
    }


def from_json(data: dict[str, Any]) -> VirtualRun[Any]:
    """The run that :func:`to_json` saved."""
    events = [Event(time, kind, task, _decode(fields)) for time, kind, task, fields in data["events"]]
    return VirtualRun(
        outcome=data["outcome"],
        value=_decode(data["value"]),
        error=None,
        events=events,
        elapsed=data["elapsed"],
        deadline=data["deadline"],
    )


def dumps(traces: dict[str, VirtualRun[Any]]) -> str:
    """The text of a chapter's trace file: stable key order, one event per line."""
    lines = ["{"]
    for number, (name, run) in enumerate(sorted(traces.items())):
        data = to_json(run)
        events = data.pop("events")
        head = json.dumps(data)[1:-1]
        body = ",\n".join("    " + json.dumps(event) for event in events)
        comma = "," if number < len(traces) - 1 else ""
        lines.append(f'  {json.dumps(name)}: {{{head}, "events": [\n{body}\n  ]}}{comma}')
    lines.append("}")
    return "\n".join(lines) + "\n"


class _TaskNames:
    """Renames asyncio's default task names (``Task-<counter>``) to ``task-1``, ``task-2``, ..."""

    def __init__(self) -> None:
        self._renamed: dict[str, str] = {}

    def __call__(self, name: str | None) -> str | None:
        if name is None or not re.fullmatch(r"Task-\d+", name):
            return name
        return self._renamed.setdefault(name, f"task-{len(self._renamed) + 1}")


def same_traces(saved: str, recorded: str) -> bool:
    """Do two trace files record the same runs, up to the order of events at one instant?

    asyncio wakes tasks cancelled together in an order that varies from process to process
    (a TaskGroup keeps its tasks in a set), so only the events of each instant, as a
    multiset, and the renamed task names' pattern are compared."""
    return _canonical(saved) == _canonical(recorded)


def _canonical(text: str) -> dict[str, Any]:
    traces: dict[str, Any] = json.loads(text)
    for trace in traces.values():
        events = [json.dumps(event, sort_keys=True) for event in trace["events"]]
        events = [re.sub(r'"task-\d+"', '"task-?"', event) for event in events]
        trace["events"] = sorted(events, key=lambda event: (json.loads(event)[0], event))
    return traces


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return {"enum": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"dict": {key: _encode(item) for key, item in value.items()}}
    return {"repr": repr(value)}


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    ((kind, inner),) = value.items()
    if kind == "tuple":
        return tuple(_decode(item) for item in inner)
    if kind == "dict":
        return {key: _decode(item) for key, item in inner.items()}
    return Opaque(inner)
