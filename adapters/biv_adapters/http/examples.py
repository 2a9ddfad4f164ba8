"""The example documents of the OpenAPI schema, and how they are made.

`python -m biv_adapters.http.examples` records the Linköping history in memory
in three stages (as it could have been recorded: the first period's documents
in 2019, the 2022 extension a fortnight after its decision, the illustrative
year in 2024), asks every endpoint's example query, and writes
`examples.json` beside this file: each list cut to two items, so the schema's
examples stay readable. They are shown beside each response's schema (which
is made from the declared document type, not from them), and a test holds both
to what the CLI prints.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from biv_adapters.demo import DEMO_ACTOR, linkoping_lines
from biv_adapters.exchange import read_lines
from biv_adapters.http.auth import EVERY_ROLE, Caller
from biv_adapters.http.endpoints import ENDPOINTS, Call, Endpoint
from biv_domain.ledger import Ledger

STAGES = (
    (datetime(2019, 4, 15, 9, tzinfo=UTC), 0, 4),  # documents 01–04: the first period
    (datetime(2022, 11, 2, 9, tzinfo=UTC), 4, 9),  # the 2022-10-19 extension and its money
    (datetime(2024, 4, 25, 9, tzinfo=UTC), 9, None),  # the illustrative year
)
EXAMPLES = Path(__file__).with_name("examples.json")
EXAMPLE_IMPORT = (
    '{"id": "ex-1", "command": "set_target", "case_number": "Dnr 2016-292", '
    '"target": "children_per_year", "value": 40, "decided_on": "2023-03-01"}'
)


class SettableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now


def record_staged(ledger: Ledger, clock: SettableClock) -> None:
    """The Linköping history in three stages, at the moments of STAGES."""
    lines = read_lines(linkoping_lines())
    for moment, first, last in STAGES:
        clock.set(moment)
        ledger.execute_all(lines[first:last], actor=DEMO_ACTOR)


def example_request(endpoint: Endpoint) -> str:
    """The endpoint's example: its path with the examples of its parameters."""
    path = endpoint.path
    query = {}
    for param in endpoint.params:
        if param.where == "path":
            path = path.replace("{" + param.name + "}", quote(param.example or "", safe=""))
        elif param.example is not None:
            query[param.name] = param.example
    return path + ("?" + urlencode(query) if query else "")


def example_args(endpoint: Endpoint) -> dict[str, Any]:
    query: dict[str, list[str]] = {}
    path: dict[str, str] = {}
    for param in endpoint.params:
        if param.where == "path":
            path[param.name] = param.example or ""
        elif param.example is not None:
            query[param.name] = [param.example]
    return endpoint.read(query, path)


def trimmed(value: Any, items: int = 2) -> Any:
    if isinstance(value, dict):
        return {k: trimmed(v, items) for k, v in value.items()}
    if isinstance(value, list):
        return [trimmed(v, items) for v in value[:items]]
    return value


def make_examples() -> dict[str, Any]:
    clock = SettableClock(STAGES[0][0])
    ledger = Ledger(clock=clock)
    record_staged(ledger, clock)
    clock.set(datetime(2024, 5, 1, 9, tzinfo=UTC))
    local = Caller("example", EVERY_ROLE, "example")
    examples: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        body = EXAMPLE_IMPORT.encode() if endpoint.method == "POST" else b""
        call = Call(ledger, example_args(endpoint), local, body)
        examples[endpoint.name] = {
            "request": example_request(endpoint),
            "document": trimmed(endpoint.run(call)),
        }
    return examples


def main() -> int:
    from biv_domain.converter import json_text

    EXAMPLES.write_text(json_text(make_examples()) + "\n", "utf-8")
    print(f"wrote {EXAMPLES}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
