"""Series the pictures are drawn from."""

from __future__ import annotations

from coursekit.analysis import busy_intervals, queue_depth
from coursekit.events import Event


def event(time: float, kind: str, task: str = "t", **fields: object) -> Event:
    return Event(time, kind, task, fields)


def test_queue_depth_keeps_the_last_depth_of_each_instant() -> None:
    events = [
        event(1.0, "queue.put", depth=1, item=1),
        event(1.0, "queue.get", depth=0, item=1),
        event(2.0, "queue.put", depth=1, item=2),
        event(2.5, "work.start", item=2),
    ]
    assert queue_depth(events) == ([0.0, 1.0, 2.0], [0, 0, 1])


def test_busy_intervals_pair_start_and_end_per_task_and_item() -> None:
    events = [
        event(0, "work.start", "c1", item=1),
        event(0, "work.start", "c2", item=2),
        event(1, "work.end", "c1", item=1, outcome="done"),
        event(3, "work.end", "c2", item=2, outcome="failed"),
    ]
    assert busy_intervals(events) == {"c1": [(0, 1, "done")], "c2": [(0, 3, "failed")]}


def test_in_flight_counts_running_work_per_instant() -> None:
    from coursekit.analysis import in_flight, peak_in_flight

    events = [
        event(0, "work.start", item=1),
        event(0, "work.start", item=2),
        event(1, "work.end", item=1),
        event(1, "work.start", item=3),
        event(2, "work.end", item=2),
        event(2, "work.end", item=3),
    ]
    assert in_flight(events) == ([0.0, 1, 2], [2, 2, 0])
    assert peak_in_flight(events) == 2
