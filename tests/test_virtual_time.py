"""run_virtual: virtual clock, hang diagnosis, wall-clock backstop, leftovers, determinism."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest

from coursekit import STOP, RunFailed, TracedQueue, emit, run_virtual


def test_simulated_seconds_are_exact() -> None:
    async def main() -> str:
        await asyncio.sleep(300)
        return "done"

    run = run_virtual(main, deadline=600)
    assert (run.outcome, run.value, run.elapsed) == ("returned", "done", 300.0)


def test_events_carry_virtual_time_and_task_name() -> None:
    async def ticker() -> None:
        for n in range(3):
            await asyncio.sleep(1.5)
            emit("tick", n=n)

    async def main() -> None:
        await asyncio.create_task(ticker(), name="ticker")

    run = run_virtual(main)
    assert [(e.time, e.task, e["n"]) for e in run.of_kind("tick")] == [
        (1.5, "ticker", 0),
        (3.0, "ticker", 1),
        (4.5, "ticker", 2),
    ]


def test_two_runs_record_identical_events() -> None:
    async def pipeline() -> None:
        queue: TracedQueue = TracedQueue(2)

        async def consume() -> None:
            while (item := await queue.get()) is not STOP:
                await asyncio.sleep(0.3 * (item % 3))
                queue.task_done()
            queue.task_done()

        async with asyncio.TaskGroup() as group:
            for n in range(3):
                group.create_task(consume(), name=f"consumer-{n}")
            for item in range(20):
                await queue.put(item)
            for _ in range(3):
                await queue.put(STOP)

    assert run_virtual(pipeline).events == run_virtual(pipeline).events


def test_a_deadlock_with_no_timer_is_stopped_at_the_deadline_and_explained() -> None:
    async def main() -> None:
        queue: TracedQueue = TracedQueue()
        waiter = asyncio.create_task(queue.get(), name="consumer-2")
        await asyncio.Event().wait()
        await waiter

    run = run_virtual(main, deadline=60)
    assert run.outcome == "hung" and run.elapsed == 60
    assert "after 60 simulated seconds" in run.diagnosis
    assert "consumer-2 (get) was still waiting on queue.get()" in run.diagnosis
    assert "main was still waiting on event.wait()" in run.diagnosis
    with pytest.raises(RunFailed, match="after 60 simulated seconds"):
        run.unwrap()


def test_join_diagnosis_counts_items_never_marked_done() -> None:
    async def main() -> None:
        queue: TracedQueue = TracedQueue()
        for item in range(5):
            queue.put_nowait(item)
        for _ in range(3):
            await queue.get()
            queue.task_done()
        await queue.join()

    run = run_virtual(main, deadline=10)
    assert "waiting on queue.join(): 2 of 5 items put were never marked task_done()" in run.diagnosis


def test_blocking_sleep_is_stopped_by_the_wall_clock_backstop() -> None:
    async def main() -> None:
        await asyncio.sleep(2)
        time.sleep(10**6)

    run = run_virtual(main, wall_limit=0.5)
    assert run.outcome == "blocked"
    assert "time.sleep(10**6)" in run.diagnosis and "blocked the event loop" in run.diagnosis
    assert run.elapsed == 2


def test_a_busy_loop_that_swallows_interrupts_is_still_stopped() -> None:
    async def main() -> None:
        for _ in range(3):
            try:
                while True:
                    pass
            except BaseException:
                continue
        while True:
            pass

    run = run_virtual(main, wall_limit=0.3)
    assert run.outcome == "blocked"


def test_exceptions_are_reported_not_raised() -> None:
    async def main() -> None:
        raise ValueError("boom")

    run = run_virtual(main)
    assert run.outcome == "raised" and isinstance(run.error, ValueError)
    with pytest.raises(ValueError, match="boom"):
        run.unwrap()


def test_tasks_left_running_and_unretrieved_errors_are_reported() -> None:
    async def fail() -> None:
        raise KeyError("lost")

    async def main() -> int:
        asyncio.create_task(asyncio.Event().wait(), name="orphan")
        asyncio.create_task(fail(), name="doomed")
        await asyncio.sleep(1)
        return 7

    run = run_virtual(main)
    assert run.value == 7
    assert [task.name for task in run.leftover] == ["orphan"]
    assert any("doomed" in line and "KeyError" in line for line in run.unhandled), run.unhandled


def test_runs_beside_an_already_running_loop_and_leaves_it_intact() -> None:
    async def kernel_cell() -> tuple[str, float]:
        outer = asyncio.get_running_loop()

        async def inner() -> str:
            await asyncio.sleep(50)
            return "inner"

        run = run_virtual(inner)
        assert asyncio.get_running_loop() is outer
        await asyncio.sleep(0)
        return run.unwrap(), run.elapsed

    assert asyncio.run(kernel_cell()) == ("inner", 50.0)


def test_several_blocking_tasks_are_reported_without_warnings(recwarn: pytest.WarningsRecorder) -> None:
    async def main() -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(3):
                group.create_task(asyncio.to_thread(int))  # harmless work beside the blockers
                group.create_task(blocker())

    async def blocker() -> None:
        time.sleep(10**6)

    run = run_virtual(main, wall_limit=0.3)
    assert run.outcome == "blocked" and "time.sleep(10**6)" in run.diagnosis
    del run
    gc.collect()  # unstarted coroutines warn when collected
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in recwarn]


def test_a_hang_caused_by_a_silently_dead_task_shows_its_error() -> None:
    async def main() -> None:
        done = asyncio.Event()

        async def worker() -> None:
            raise ValueError("worker died")  # so it never sets `done`

        asyncio.create_task(worker(), name="worker-1")
        await done.wait()

    run = run_virtual(main, deadline=10)
    assert "errors that no code ever looked at:" in run.diagnosis
    assert "(task worker-1): ValueError: worker died" in run.diagnosis


def test_a_run_collects_only_its_own_garbage_and_leaves_the_collector_as_it_was() -> None:
    async def leaves_an_error_behind() -> None:
        async def boom() -> None:
            raise ValueError("nobody looks")

        asyncio.create_task(boom())
        await asyncio.sleep(1)

    run = run_virtual(leaves_an_error_behind)
    assert [line.split(": ", 1)[1] for line in run.unhandled] == ["ValueError: nobody looks"]
    assert gc.get_freeze_count() == 0, "run_virtual must unfreeze what it froze"
