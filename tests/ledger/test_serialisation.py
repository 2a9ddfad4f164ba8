"""Every event and fact survives the one converter, the stored form's codec and a real store."""

from __future__ import annotations

import functools
import json
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from attrs import evolve
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biv_adapters.stores.registry import open_ledger
from biv_domain.converter import converter, structure_command
from biv_domain.errors import Refused
from biv_domain.ledger import Ledger, Line
from biv_domain.ledger.bookkeeping import RECORDABLE_TYPES
from biv_domain.ledger.envelope import read, read_envelope, stored_hash, write
from biv_domain.ledger.mapper import FactMapper
from biv_domain.model.commands import Command
from biv_domain.model.events import EVENT_TYPES, SessionHeld
from biv_domain.model.fact import Fact
from tests.strategies import (
    BOOKKEEPING_TYPES,
    EVENT_STRATEGIES,
    StepClock,
    agreement_histories,
    build,
    facts,
)

EXAMPLES = settings(max_examples=40, deadline=None)


@functools.cache
def mapper() -> FactMapper:
    """The ledger's own mapper (built once: an application is not free to build)."""
    built = Ledger().app.mapper
    assert isinstance(built, FactMapper)
    return built


def test_every_event_type_has_a_strategy() -> None:
    assert set(EVENT_STRATEGIES) == set(EVENT_TYPES)
    assert set(RECORDABLE_TYPES) == set(EVENT_TYPES) | set(BOOKKEEPING_TYPES)


# --- The converter ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
@EXAMPLES
@given(data=st.data())
def test_every_event_round_trips_through_the_converter(name: str, data: st.DataObject) -> None:
    event = data.draw(EVENT_STRATEGIES[name])
    event_type = EVENT_TYPES[name]
    plain = converter.unstructure(event)
    assert converter.structure(plain, event_type) == event
    # And through JSON text, as the stores and the history keep it.
    text = json.dumps(plain, ensure_ascii=False, sort_keys=True)
    assert converter.structure(json.loads(text), event_type) == event
    assert json.dumps(converter.unstructure(event), ensure_ascii=False, sort_keys=True) == text


@settings(max_examples=40, deadline=None)
@given(agreement_histories(max_steps=20))
def test_every_command_round_trips_through_the_exchange_format(commands: list[Command]) -> None:
    for command in commands:
        line = {"command": command.name, **converter.unstructure(command)}
        assert structure_command(json.loads(json.dumps(line))) == command


# --- Facts, the codec and the mapper ---------------------------------------------------------


def _fact_of(name: str) -> st.SearchStrategy[Fact]:
    event = EVENT_STRATEGIES[name] if name in EVENT_STRATEGIES else build(RECORDABLE_TYPES[name])
    return facts(event)


FACT_STRATEGIES = {name: _fact_of(name) for name in RECORDABLE_TYPES}


@pytest.mark.parametrize("name", sorted(RECORDABLE_TYPES))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_fact_round_trips_through_the_codec(name: str, data: st.DataObject) -> None:
    fact = data.draw(FACT_STRATEGIES[name])
    stored, digest = write(fact)
    assert stored.topic == name
    assert stored.state == write(fact)[0].state
    # The hash is taken over the row as stored, and is the one its bytes hold.
    envelope = read_envelope(stored)
    assert digest == envelope.chain.hash
    assert digest == stored_hash(fact.stream, fact.originator_version, name, envelope)
    placed = evolve(fact, hash=digest)
    assert mapper().to_domain_event(stored) == placed
    assert read(stored) == placed
    # The fast reading of a store (`store_reader`) reads exactly what the strict one does.
    assert read(stored) == read(stored, strict=True)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("held_on", "2023-02-30", "held_on"),
        ("attendees", "P-1", "attendees"),
        ("group_ref", None, "group_ref"),
    ],
)
def test_a_damaged_stored_fact_is_refused_naming_its_field(
    field: str, value: object, reason: str
) -> None:
    """The fast reading trusts the shapes; a row that breaks them is read the strict way."""
    body = orjson.loads(write(_SESSION)[0].state)
    body["event"][field] = value
    _refused_naming(body, reason)


@pytest.mark.parametrize(
    ("field", "value"),
    [("schema", "2"), ("personal", "yes"), ("actor", 5), ("recorded_at", None)],
)
def test_a_damaged_envelope_is_refused_not_read_as_it_is(field: str, value: object) -> None:
    """The fast reading checks each envelope field's kind; one of another kind is refused."""
    body = orjson.loads(write(_SESSION)[0].state)
    body[field] = value
    _refused_naming(body, field)


_SESSION = Fact(
    "group:G-1",
    2,
    datetime(2023, 3, 1, tzinfo=UTC),
    SessionHeld(group_ref="G-1", held_on=date(2023, 2, 1), attendees=("P-1",)),
)


def _refused_naming(body: dict[str, Any], name: str) -> None:
    """A stored session whose envelope is `body` is refused, the refusal naming `name`."""
    stored = StoredEvent("group:G-1", 2, "SessionHeld", orjson.dumps(body))
    with pytest.raises(Exception) as refused:  # noqa: PT011 (the strict reading's own errors)
        read(stored)
    assert name in repr(refused.value) + "".join(
        str(n)
        for e in getattr(refused.value, "exceptions", [refused.value])
        for n in getattr(e, "__notes__", [])
    )


@EXAMPLES
@given(facts())
def test_a_fact_is_encoded_the_same_way_every_time(fact: Fact) -> None:
    body = write(fact)[0].state
    assert write(fact)[0].state == body
    assert json.loads(body)["event"] == json.loads(json.dumps(fact.data()))
    copy = read(write(fact)[0])
    assert write(copy)[0].state == body


# --- A real store -----------------------------------------------------------------------------


def _record(ledger: Ledger, commands: list[Command], batch_from: int) -> list[Fact]:
    """Records the commands one by one, the last ones as a single batch with ids."""
    recorded: list[Fact] = []
    for command in commands[:batch_from]:
        recorded += ledger.execute(command).facts
    lines = [
        Line(number, command, f"line {number}")
        for number, command in enumerate(commands[batch_from:], start=batch_from + 1)
    ]
    if lines:
        recorded += ledger.execute_all(lines).facts
    return recorded


def _check_read_back(ledger: Ledger, recorded: list[Fact]) -> None:
    stored = list(ledger.facts())
    assert stored == recorded
    for stream in {fact.stream for fact in recorded}:
        assert list(ledger.stream(stream)) == [f for f in recorded if f.stream == stream]
    # What was known at each recorded time is the facts recorded by then.
    for moment in sorted({fact.recorded_at for fact in recorded}):
        assert list(ledger.facts(as_known_at=moment)) == [
            f for f in recorded if f.recorded_at <= moment
        ]


@settings(max_examples=40, deadline=None)
@given(agreement_histories(max_steps=20), st.data())
def test_facts_read_back_from_the_memory_store_equal_the_receipts(
    commands: list[Command], data: st.DataObject
) -> None:
    ledger = Ledger(clock=StepClock())
    recorded = _record(ledger, commands, data.draw(st.integers(0, len(commands))))
    _check_read_back(ledger, recorded)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agreement_histories(max_steps=15), st.data())
def test_facts_read_back_from_a_reopened_sqlite_store_equal_the_receipts(
    commands: list[Command], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{Path(folder).resolve()}/x.sqlite3"
        ledger = open_ledger(url, clock=StepClock())
        recorded = _record(ledger, commands, data.draw(st.integers(0, len(commands))))
        ledger.close()

        reopened = open_ledger(url)
        try:
            _check_read_back(reopened, recorded)
        finally:
            reopened.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_odd_text_survives_the_store(kind: str, tmp_path: Path) -> None:
    """Text a store must take care with: quotes, backslashes, newlines, emoji, RTL letters.

    (NUL and other control characters are refused before any store sees them, the same
    on every store: see tests/adapters/test_input_refusals.py.)"""
    odd = 'a"b\\cé🙂ا\ud7ff'
    data: dict[str, Any] = {
        "command": "conclude_agreement",
        "case_number": f"Dnr {odd}",
        "title": odd,
        "municipality": odd,
        "partner": odd,
        "start": "2023-04-01",
        "end": "2024-03-31",
        "notice_months": 6,
        "decided_on": "2022-10-19",
        "note": f"{odd}\nline two\tand a tab",
    }
    url = "memory:" if kind == "memory" else f"sqlite://{tmp_path}/odd.sqlite3"
    ledger = open_ledger(url, clock=StepClock())
    recorded = list(ledger.execute(structure_command(data)).facts)
    if kind == "sqlite":
        ledger.close()
        ledger = open_ledger(url)
    assert list(ledger.facts()) == recorded
    assert ledger.agreement(f"Dnr {odd}").terms.title == odd
    ledger.close()


def test_a_lone_surrogate_from_json_is_refused_or_kept() -> None:
    # "\ud800" is valid JSON syntax, and json.loads gives a str Python cannot write as UTF-8.
    line = (
        '{"command": "conclude_agreement", "case_number": "X", "title": "\\ud800", '
        '"municipality": "m", "partner": "p", "start": "2023-04-01", "end": "2024-03-31", '
        '"notice_months": 6, "decided_on": "2022-10-19"}'
    )
    ledger = Ledger(clock=StepClock())
    try:
        command = structure_command(json.loads(line))
    except Refused:
        return  # refused at the door, naming the field: right
    # Accepted, it must be stored and read back, not crash the store.
    recorded = ledger.execute(command).facts
    assert list(ledger.facts()) == list(recorded)
