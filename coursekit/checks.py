"""Checks that tell a learner which property failed, what was seen, and what to try.

A check is a chain of properties tested in order (defined -> runs -> terminates
-> correct -> respects limits). Each property that holds prints one ``✓`` line;
the first that fails raises :class:`CheckFailed` and the chain stops there, so
one mistake gives one message. The most specific failure is the one told: a
*generic* property (a default or a name kept, ``require(..., generic=True)``)
that fails is told only when no later property fails (:func:`deferring`)::

    chain = Chain("consumer")
    chain.require(inspect.iscoroutinefunction(consumer), "consumer is an async function",
                  observed=f"consumer is {consumer!r}", hint="define it with `async def`")

Everything printed is deterministic, so notebooks that run checks compare
strictly under nbval.
"""

from __future__ import annotations

import dis
import functools
import inspect
import sys
import sysconfig
import traceback
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

from coursekit.virtual_time import VirtualRun

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

P = ParamSpec("P")
R = TypeVar("R")
K = TypeVar("K", bound=Hashable)


def learner_facing(check: Callable[P, R]) -> Callable[P, R]:
    """Mark a public check: its failure names the scenario, and the traceback ends at the learner's call.

    The scenario is the check's own call with every argument, defaults included
    (:func:`describe_call`), so a learner can rerun a hidden check in a cell of their own.
    A check called from inside another keeps the inner, more precise scenario. A failure
    that the release's placeholder caused (the function under check, or a method of the
    class under check that ran, is still ``raise NotImplementedError()``) says so, whatever
    property it broke (:func:`watching_placeholders`). The check's internal frames are cut
    from the CheckFailed traceback, and the wrapper's frame is hidden (IPython honours
    ``__tracebackhide__``), so a notebook shows the call in the test cell and then the message."""
    signature = inspect.signature(check)

    @functools.wraps(check)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        __tracebackhide__ = True  # noqa: F841 (read by IPython and pytest)
        with watching_placeholders(args[0] if args else None) as placeholders, holding() as held:
            try:
                with deferring():
                    return check(*args, **kwargs)
            except CheckFailed as failure:
                if placeholders and not failure.prop.endswith(" is implemented"):
                    failure = unimplemented(failure.subject, " and ".join(placeholders))
                elif failure.held is None and not failure.prop.endswith(" is implemented"):
                    failure = failure.having_held(tuple(held))
                if failure.scenario is None:
                    failure = failure.in_scenario(describe_call(check.__name__, signature, args, kwargs))
                raise failure.with_traceback(None) from None

    return wrapper


_held: list[list[str]] = []  # the properties that held in the learner-facing check running now (outermost)


@contextmanager
def holding() -> Iterator[list[str]]:
    """Within the block, the ✓ lines of :meth:`Chain.passed` are kept in the list it gives, and
    printed when the block ends without an error: a failure is the first thing a learner reads,
    and it names the properties that held before it. A check called inside another adds to the
    outer one's list."""
    if _held:
        yield _held[-1]
        return
    held: list[str] = []
    _held.append(held)
    try:
        yield held
    finally:
        _held.pop()
    for prop in held:
        print(f"✓ {prop}")


_deferred: list[list[CheckFailed]] = []  # generic failures of the learner-facing checks running now (innermost last)


@contextmanager
def deferring() -> Iterator[None]:
    """Within the block, a generic property that fails (:meth:`Chain.require` with ``generic=True``)
    does not stop the chain: the properties after it still run, and a failure of one of them is
    the one raised, as the more specific. The first generic failure is raised when the block ends
    without one, or when a later step raises anything else (it could not run without what the
    generic property wanted). Outside such a block a generic failure is raised at once."""
    deferred: list[CheckFailed] = []
    _deferred.append(deferred)
    try:
        yield
    except CheckFailed:
        raise
    except Exception:
        if deferred:
            raise deferred[0] from None
        raise
    finally:
        _deferred.pop()
    if deferred:
        raise deferred[0]


def learner_frames(tb: TracebackType | None) -> TracebackType | None:
    """The traceback ``tb`` without the course's own frames (``coursekit``): what the learner wrote."""
    frames = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(str(Path(__file__).parent)):
            frames.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for frame in reversed(frames):
        rebuilt = TracebackType(rebuilt, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    return rebuilt


def show_check_failure(
    shell: InteractiveShell,
    etype: type[BaseException],
    value: BaseException,
    tb: TracebackType | None,
    tb_offset: int | None = None,
) -> None:
    """IPython's custom exception handler for :class:`CheckFailed`: the usual error output (so the
    cell fails, and nbgrader scores it 0), its traceback showing the learner's frames only."""
    shell.showtraceback((etype, value, learner_frames(tb)), tb_offset=tb_offset)


def show_failures_in_ipython() -> None:
    """In an IPython kernel, show every CheckFailed with :func:`show_check_failure`. Outside one
    (the grader, a test) IPython is not imported for it."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        shell.set_custom_exc((CheckFailed,), show_check_failure)


PLACEHOLDER_OPERATIONS = frozenset(
    {"RESUME", "NOP", "CACHE", "RETURN_GENERATOR", "POP_TOP", "LOAD_GLOBAL", "PUSH_NULL", "PRECALL", "CALL"}
    | {"LOAD_CONST", "RETURN_VALUE", "RAISE_VARARGS"}
)


def is_placeholder(function: object) -> bool:
    """Is ``function``'s body only nbgrader's ``raise NotImplementedError()`` (after a docstring
    and comments), as the release has it?"""
    code = getattr(function, "__code__", None)
    if code is None or code.co_names != ("NotImplementedError",):
        return False
    operations = {instruction.opname for instruction in dis.get_instructions(code)}
    return "RAISE_VARARGS" in operations and operations <= PLACEHOLDER_OPERATIONS


@contextmanager
def watching_placeholders(subject: object) -> Iterator[list[str]]:
    """Within the block, a list of the placeholders of ``subject`` that were called: ``subject``
    itself if it is one (it is the function under check), or those of a class's methods that
    ran (each is wrapped for the block, raising as before). An unused placeholder (an optional
    helper left as released) does not count."""
    called: list[str] = []
    if inspect.isroutine(subject):
        if is_placeholder(subject):
            called.append(getattr(subject, "__name__", "it"))
        yield called
        return
    if not inspect.isclass(subject):
        yield called
        return
    stubs = placeholder_methods(subject)
    for name, (stub, function) in stubs.items():
        noting = _noting_calls(function, f"{subject.__name__}.{name}", called)
        setattr(subject, name, type(stub)(noting) if isinstance(stub, classmethod | staticmethod) else noting)
    try:
        yield called
    finally:
        for name, (stub, _) in stubs.items():
            setattr(subject, name, stub)


def placeholder_methods(cls: type) -> dict[str, tuple[object, Callable[..., Any]]]:
    """The methods of ``cls`` still left as the release's placeholder: {name: (the class attribute,
    its function)}; class and static methods included (their function is the wrapped one)."""
    found: dict[str, tuple[object, Callable[..., Any]]] = {}
    for name, value in vars(cls).items():
        function = value.__func__ if isinstance(value, classmethod | staticmethod) else value
        if inspect.isfunction(function) and is_placeholder(function):
            found[name] = (value, function)
    return found


def _noting_calls(stub: Callable[..., Any], name: str, called: list[str]) -> Callable[..., Any]:
    """``stub``, of the same kind (async or not), that adds ``name`` to ``called`` when it runs."""
    if inspect.iscoroutinefunction(stub):

        @functools.wraps(stub)
        async def noted_async(*args: Any, **kwargs: Any) -> Any:
            if name not in called:
                called.append(name)
            return await stub(*args, **kwargs)

        return noted_async

    @functools.wraps(stub)
    def noted(*args: Any, **kwargs: Any) -> Any:
        if name not in called:
            called.append(name)
        return stub(*args, **kwargs)

    return noted


def unimplemented(subject: str, what: str) -> CheckFailed:
    """The failure of a check that ran into the release's ``NotImplementedError`` placeholder in ``what``."""
    return CheckFailed(
        subject,
        f"{what} is implemented",
        observed="it raised NotImplementedError: the placeholder is still there",
        hint="replace `raise NotImplementedError()` with your code, then run that cell again",
    )


def describe_call(name: str, signature: inspect.Signature, args: Sequence[object], kwargs: Mapping[str, object]) -> str:
    """``name(first, key=value, ...)``: a call that reruns the same scenario.

    Every argument is shown by keyword after the first (the learner's function or class),
    defaults included; functions and classes by their name, other values by ``repr``."""
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    shown = [
        describe_argument(value) if index == 0 else f"{key}={describe_argument(value)}"
        for index, (key, value) in enumerate(bound.arguments.items())
    ]
    return f"{name}({', '.join(shown)})"


def describe_argument(value: object) -> str:
    """A function or class by its name; anything else by ``repr``."""
    if inspect.isclass(value) or inspect.isroutine(value):
        return getattr(value, "__name__", repr(value))
    return repr(value)


HELD_SHOWN = 2  # a failure names at most this many of the properties that held before it (the last ones)


class CheckFailed(AssertionError):
    """A property did not hold. ``str()`` is the learner-facing message:
    the property, the scenario that ran (when known), what was observed, and a hint; then the
    properties that held before it (``held``; None until the learner-facing check fills it in)."""

    def __init__(
        self,
        subject: str,
        prop: str,
        observed: str,
        hint: str,
        scenario: str | None = None,
        held: tuple[str, ...] | None = None,
    ) -> None:
        self.subject, self.prop, self.observed, self.hint = subject, prop, observed, hint
        self.scenario, self.held = scenario, held
        lines = [f"{subject}: {prop}: FAILED"]
        if scenario is not None:
            lines.append(f"  scenario: {scenario}")
        lines += [f"  observed: {observed}", f"  hint: {hint}"]
        held = held or ()
        if len(held) > HELD_SHOWN:
            lines.append(
                f"  held before it: {len(held)} properties, the last {HELD_SHOWN}: {'; '.join(held[-HELD_SHOWN:])}"
            )
        elif held:
            lines.append(f"  held before it: {'; '.join(held)}")
        super().__init__("\n".join(lines))

    def __str__(self) -> str:
        return str(self.args[0])

    def in_scenario(self, scenario: str) -> CheckFailed:
        """The same failure, naming the scenario it happened in."""
        return CheckFailed(self.subject, self.prop, self.observed, self.hint, scenario, self.held)

    def having_held(self, held: tuple[str, ...]) -> CheckFailed:
        """The same failure, naming the properties that held before it."""
        return CheckFailed(self.subject, self.prop, self.observed, self.hint, self.scenario, held)


class Chain:
    """An ordered list of properties of ``subject``; stops at the first that fails."""

    def __init__(self, subject: str) -> None:
        self.subject = subject

    def require(
        self, holds: bool, prop: str, *, observed: str | Callable[[], str], hint: str, generic: bool = False
    ) -> None:
        """Print ``✓ prop`` if it holds; otherwise raise CheckFailed.

        ``observed`` may be a function, so an expensive description is only built on failure.
        A ``generic`` property is one many different mistakes break (a default, a name kept): its
        failure waits for the rest of the check, which tells a more specific one first (:func:`deferring`)."""
        if holds:
            self.passed(prop)
        elif generic and _deferred:
            failure = CheckFailed(self.subject, prop, observed() if callable(observed) else observed, hint)
            _deferred[-1].append(failure.having_held(tuple(_held[-1]) if _held else ()))
        else:
            self.fail(prop, observed=observed, hint=hint)

    def fail(self, prop: str, *, observed: str | Callable[[], str], hint: str) -> NoReturn:
        """Stop the chain: ``prop`` does not hold."""
        raise CheckFailed(self.subject, prop, observed() if callable(observed) else observed, hint)

    def fail_unimplemented(self, what: str) -> NoReturn:
        """Stop the chain: ``what`` raised the release's ``NotImplementedError`` placeholder."""
        raise unimplemented(self.subject, what)

    def require_returns(self, what: str, call: Callable[[], R], *, hint: str) -> R:
        """``call()``'s value, for learner code that runs without the event loop; the placeholder,
        or any other exception (``hint`` then says what to try), stops the chain."""
        try:
            return call()
        except NotImplementedError:
            self.fail_unimplemented(what)
        except Exception as error:
            self.fail(f"{what} runs without raising", observed=f"raised {describe_error(error)}", hint=hint)

    def passed(self, prop: str) -> None:
        """``prop`` held: a ✓ line, printed now, or when the learner-facing check ends (:func:`holding`)."""
        if _held:
            _held[-1].append(prop)
        else:
            print(f"✓ {prop}")

    def require_async_function(self, candidate: object, name: str) -> None:
        """The learner defined ``name`` with ``async def``."""
        if inspect.isfunction(candidate):
            kind = "a plain function (`def`, not `async def`)"
        else:
            kind = f"a {type(candidate).__name__}, not a function"
        self.require(
            inspect.iscoroutinefunction(candidate),
            f"{name} is defined with `async def`",
            observed=f"{name} is {kind}",
            hint=f"run the cell that defines {name}; it must start with `async def {name}(`",
        )

    def require_finished(self, run: VirtualRun[Any], what: str, *, hang_hint: str | None = None) -> None:
        """The run returned: it did not block the loop, raise (the release's NotImplementedError
        placeholder gets its own message), or hang. One ✓ line if so."""
        if run.outcome == "blocked":
            self.fail(
                f"{what} never blocks the event loop",
                observed=run.diagnosis,
                hint="a blocking call (time.sleep, a loop without await) freezes every task",
            )
        if isinstance(run.error, NotImplementedError):
            self.fail_unimplemented(what)
        if run.outcome == "raised" and run.error is not None:
            where = learner_line(run.error)
            self.fail(
                f"{what} runs without raising",
                observed=f"raised {describe_error(run.error)}" + (f", {where}" if where else ""),
                hint="nothing in this scenario should raise: paste the scenario's call into a cell of your own and "
                "look at the line named above with these arguments (an empty input, a single item, a limit of 1, "
                "a repeated item are the usual suspects)",
            )
        if run.outcome == "hung":
            self.fail(
                f"{what} finishes",
                observed=run.diagnosis,
                hint=hang_hint or "look at what each task above was waiting for: who should have woken it?",
            )
        self.passed(f"{what} runs to the end")

    def require_no_leftover_tasks(self, run: VirtualRun[Any], what: str) -> None:
        """Nothing the run started is still pending after it returned."""
        self.require(
            not run.leftover,
            f"{what} leaves no task running when it returns",
            observed=lambda: "; ".join(task.describe() for task in run.leftover),
            hint="await every task you create (a TaskGroup does it for you) before returning",
        )


def describe_error(error: BaseException | None) -> str:
    """``Type: message``; for an exception group, the leaf exceptions it contains."""
    if isinstance(error, BaseExceptionGroup):
        inner = ", ".join(f"{type(e).__name__}: {e}" for e in leaf_exceptions(error))
        return f"{type(error).__name__} containing {inner}"
    return f"{type(error).__name__}: {error}"


def learner_line(error: BaseException) -> str:
    """``at line N of function()``: the innermost frame of ``error`` (its first leaf, for a group)
    outside the course's code and asyncio, or "" when there is none."""
    if isinstance(error, BaseExceptionGroup):
        error = leaf_exceptions(error)[0]
    paths = sysconfig.get_paths()
    library = (paths["stdlib"], paths["purelib"], str(Path(__file__).parent))
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if not frame.filename.startswith(library)]
    return f"at line {frames[-1].lineno} of {frames[-1].name}()" if frames else ""


def leaf_exceptions(group: BaseExceptionGroup) -> list[BaseException]:
    """The non-group exceptions inside ``group``, depth first."""
    return [
        leaf
        for error in group.exceptions
        for leaf in (leaf_exceptions(error) if isinstance(error, BaseExceptionGroup) else [error])
    ]


def describe_values(values: Sequence[object], limit: int = 8) -> str:
    """``[a, b, ...]``: at most ``limit`` values, by repr."""
    shown = ", ".join(map(repr, values[:limit]))
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def describe_dict_difference(actual: Mapping[K, object], expected: Mapping[K, object], name: str = "the dict") -> str:
    """Missing keys, unexpected keys, and the first wrong value of dict ``name``, in one line."""
    missing = [key for key in expected if key not in actual]
    extra = [key for key in actual if key not in expected]
    wrong = [key for key in expected if key in actual and actual[key] != expected[key]]
    parts = []
    if missing:
        parts.append(f"missing keys {describe_values(missing)}")
    if extra:
        parts.append(f"unexpected keys {describe_values(extra)}")
    if wrong:
        key = wrong[0]
        parts.append(f"{name}[{key!r}] is {actual[key]!r}, expected {expected[key]!r}")
    return "; ".join(parts)


show_failures_in_ipython()
