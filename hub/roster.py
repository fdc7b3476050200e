"""The class roster: who teaches and who learns, read from a TOML file.

The format (``hub/roster.example.toml``)::

    [[instructor]]
    username = "ada"

    [[learner]]
    username = "alan"
    name = "Alan T."        # optional, for people; the hub uses the username only

Each entry is one person with a ``username``: lower-case letters, digits, ``_`` and ``-``,
starting with a letter, at most 24 characters (a system account is made from it, with the
hub's name prefix). A name appears once in the whole roster. Any other table or key is an
error, so a typing mistake is never silently a missing learner. Errors name the line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROLES = ("instructor", "learner")
USERNAME = re.compile(r"[a-z][a-z0-9_-]{0,23}")
KEYS = {"username", "name"}


class RosterError(ValueError):
    """A roster that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class Person:
    username: str
    role: str  # one of ROLES
    name: str = ""


@dataclass(frozen=True)
class Roster:
    people: tuple[Person, ...]

    def names(self, role: str) -> list[str]:
        return [person.username for person in self.people if person.role == role]

    @property
    def instructors(self) -> list[str]:
        return self.names("instructor")

    @property
    def learners(self) -> list[str]:
        return self.names("learner")


def header_lines(text: str, role: str) -> list[int]:
    """The line numbers (from 1) of the ``[[role]]`` headers, in order: entry i of the role is at line i."""
    header = re.compile(rf"\s*\[\[\s*{role}\s*\]\]\s*(#.*)?")
    return [number for number, line in enumerate(text.splitlines(), 1) if header.fullmatch(line)]


def read_roster(path: Path) -> Roster:
    """The roster in ``path``; :class:`RosterError` says what is wrong and where."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RosterError(f"cannot read the roster {path}: {error.strerror}") from None
    return parse_roster(text, str(path))


def parse_roster(text: str, where: str) -> Roster:
    """The roster in ``text`` (read from ``where``, for messages)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RosterError(f"{where}: not valid TOML: {error}") from None
    unknown = sorted(set(data) - set(ROLES))
    if unknown:
        line = next((n for n, raw in enumerate(text.splitlines(), 1) if unknown[0] in raw), 0)
        raise RosterError(
            f"{where}, line {line}: unknown table {unknown[0]!r}: a roster has [[instructor]] and [[learner]] entries"
        )
    people: list[Person] = []
    seen: dict[str, str] = {}
    for role in ROLES:
        entries = data.get(role, [])
        lines = header_lines(text, role)
        if not isinstance(entries, list):
            raise RosterError(f"{where}: {role!r} must be written as [[{role}]] entries")
        for index, entry in enumerate(entries):
            place = f"line {lines[index]}" if index < len(lines) else f"[[{role}]] entry {index + 1}"
            person = parse_entry(entry, role, f"{where}, {place}")
            if person.username in seen:
                raise RosterError(
                    f"{where}, {place}: {person.username!r} is already on the roster ({seen[person.username]})"
                )
            seen[person.username] = f"{place}, as {role}"
            people.append(person)
    if not any(person.role == "instructor" for person in people):
        raise RosterError(f"{where}: the roster names no [[instructor]]: a class needs at least one")
    return Roster(tuple(people))


def parse_entry(entry: object, role: str, place: str) -> Person:
    """One ``[[role]]`` entry; ``place`` names it in errors."""
    if not isinstance(entry, dict):
        raise RosterError(f"{place}: a [[{role}]] entry is a table with a username")
    extra = sorted(set(entry) - KEYS)
    if extra:
        raise RosterError(f"{place}: unknown key {extra[0]!r} (an entry has username and, optionally, name)")
    username = entry.get("username")
    if not isinstance(username, str):
        raise RosterError(f'{place}: the [[{role}]] entry has no username = "..."')
    if not USERNAME.fullmatch(username):
        raise RosterError(
            f"{place}: username {username!r} is not allowed: lower-case letters, digits, '_' and '-', "
            "starting with a letter, at most 24 characters"
        )
    name = entry.get("name", "")
    if not isinstance(name, str):
        raise RosterError(f"{place}: name must be a string")
    return Person(username, role, name)
