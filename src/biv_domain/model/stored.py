"""How each type of fact is stored: one declaration a type, and the tables read off them.

A stored fact's shape is a promise for decades, so everything the ledger needs to
know to store and read a type of fact (lagring) is declared once, beside the type:

- its topic, the name a stored row carries: the class's name, never a module path,
  so that moving code never orphans stored facts;
- its version and the upcasters that read its older shapes: version n is read as
  version n + 1 by the n-th upcaster, so the version is one more than their number;
- its participant's fields (`sealed`), sealed under the participant's own key, the
  reference (`participant_ref`) first: it becomes the participant's pseudonym;
- its lists of participants' references (`lists`), stored as pseudonyms;
- its effective date's field (`effective`): when it happened in the world.

The declarations are pure data about the model's types; the ledger applies them
(`biv_domain.ledger.personal` seals, `biv_domain.ledger.upcasting` upcasts), and
`StoredTypes` derives each table it reads from them, so no table is kept by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
from attrs import frozen

Data = dict[str, Any]
Upcaster = Callable[[Data], Data]
"""A pure function from a stored fact's fields in one version to the next version's."""

REFERENCE = "participant_ref"
"""The field of a participant's reference, the first of a type's sealed fields."""


@frozen
class Stored:
    """One type of fact as the ledger stores it: its version, upcasters, personal fields, date."""

    cls: type[Any]
    effective: str | None = None
    upcasters: tuple[Upcaster, ...] = ()
    sealed: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        fields = attrs.fields_dict(self.cls)
        named = [*self.sealed, *self.lists, *([self.effective] if self.effective else [])]
        unknown = [name for name in named if name not in fields]
        if unknown:
            raise ValueError(f"{self.topic} declares {unknown} but has no such field")
        if self.sealed and self.sealed[0] != REFERENCE:
            raise ValueError(f"{self.topic}'s sealed fields start with {REFERENCE!r}")

    @property
    def topic(self) -> str:
        """The name its stored rows carry: the class's name."""
        return self.cls.__name__

    @property
    def version(self) -> int:
        """The version facts of this type are written in: 1, and one more an upcaster."""
        return len(self.upcasters) + 1


class StoredTypes:
    """Declarations by topic, and the tables derived from them, kept in step.

    The tables are plain dicts, read on every stored fact; `declared` changes a
    declaration and every table with it, and undoes both on leaving. Made
    `following` others, they hold the others' declarations too, and follow
    every change declared there.
    """

    def __init__(self, *declarations: Stored, following: StoredTypes | None = None) -> None:
        self.declarations: dict[str, Stored] = {}
        self.types: dict[str, type[Any]] = {}
        self.versions: dict[str, int] = {}
        self.upcasters: dict[tuple[str, int], Upcaster] = {}
        self.sealed: dict[str, tuple[str, ...]] = {}
        self.lists: dict[str, tuple[str, ...]] = {}
        self.effective: dict[type[Any], str] = {}
        self._followers: list[StoredTypes] = []
        if following is not None:
            following._followers.append(self)
            for declaration in following:
                self._add(declaration)
        for declaration in declarations:
            if declaration.topic in self.declarations:
                raise ValueError(f"{declaration.topic} is declared twice")
            self._add(declaration)

    def __iter__(self) -> Iterator[Stored]:
        return iter(self.declarations.values())

    def of(self, cls: type[Any]) -> Stored:
        """The declaration of a type of fact."""
        return self.declarations[cls.__name__]

    @contextmanager
    def declared(self, declaration: Stored) -> Iterator[Stored]:
        """The tables with this declaration added (or replacing its topic's), until the end."""
        before = self.declarations.get(declaration.topic)
        if before is not None:
            self._remove(before)
        self._add(declaration)
        try:
            yield declaration
        finally:
            self._remove(declaration)
            if before is not None:
                self._add(before)

    def _add(self, declaration: Stored) -> None:
        topic = declaration.topic
        self.declarations[topic] = declaration
        self.types[topic] = declaration.cls
        self.versions[topic] = declaration.version
        for version, upcaster in enumerate(declaration.upcasters, start=1):
            self.upcasters[(topic, version)] = upcaster
        if declaration.sealed:
            self.sealed[topic] = declaration.sealed
        if declaration.lists:
            self.lists[topic] = declaration.lists
        if declaration.effective:
            self.effective[declaration.cls] = declaration.effective
        for follower in self._followers:
            follower._add(declaration)

    def _remove(self, declaration: Stored) -> None:
        topic = declaration.topic
        del self.declarations[topic], self.types[topic], self.versions[topic]
        for version in range(1, declaration.version):
            del self.upcasters[(topic, version)]
        self.sealed.pop(topic, None)
        self.lists.pop(topic, None)
        self.effective.pop(declaration.cls, None)
        for follower in self._followers:
            follower._remove(declaration)
