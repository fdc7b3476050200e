"""Cells that run the learner's code say which exercise to do first, instead of failing.

A demonstration or picture that needs an exercise's answer is written as::

    if exercise_done("exercise 1", CircuitBreaker):
        show_breaker_states(...)

While ``CircuitBreaker`` (or any function given) still holds the release's
``raise NotImplementedError()`` placeholder, the cell prints which exercise it needs and
draws nothing, so Run All on an untouched chapter shows every other part of it.
"""

from __future__ import annotations

import inspect

from coursekit.checks import is_placeholder, placeholder_methods


def unfinished(subject: object) -> list[str]:
    """The placeholders left in ``subject``: the function itself, or a class's methods (by name).

    A class's private helpers (``_name``, not ``__dunder__``) do not count: a statement may leave
    them optional, and a learner may write the class without them."""
    name = getattr(subject, "__name__", repr(subject))
    if inspect.isclass(subject):
        return [f"{name}.{method}" for method in placeholder_methods(subject) if not is_private_helper(method)]
    return [name] if is_placeholder(subject) else []


def is_private_helper(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def exercise_done(exercise: str, *subjects: object) -> bool:
    """True when none of ``subjects`` is the release's placeholder; otherwise say that this cell
    needs ``exercise`` (e.g. "exercise 1") first, and return False."""
    left = [placeholder for subject in subjects for placeholder in unfinished(subject)]
    if not left:
        return True
    shown = ", ".join(f"`{name}`" for name in left)
    print(
        f"This cell runs your code from {exercise}, and {shown} still "
        f"{'raises' if len(left) == 1 else 'raise'} NotImplementedError: "
        f"do {exercise} first, then run this cell again."
    )
    return False
