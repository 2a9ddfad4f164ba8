"""The OpenAPI schema against the CLI: each endpoint's example and schema have the keys of the
document `biv … --json` prints for the same query, on a store recorded as the examples were."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from biv_adapters.cli import main
from biv_adapters.http.endpoints import ENDPOINTS
from biv_adapters.http.examples import EXAMPLE_IMPORT
from biv_adapters.http.openapi import openapi
from tests.http_server import staged_store

C = "Dnr 2016-292"
# Each endpoint's example request (examples.json) as the command that prints the same document.
CLI: dict[str, list[str]] = {
    "budget": [
        "budget",
        C,
        "--on",
        "2023-10-01",
        "--split",
        "months",
        "--as-known-at",
        "2022-10-31",
    ],
    "fiscal_year": ["budget", "--fiscal-year", "2023", "--split", "months"],
    "report": ["report", C, "--from", "2023-04-01", "--to", "2024-03-31"],
    "follow_up_report": ["report", C, "--follow-up", "ILL-2023-H1"],
    "follow_ups": ["follow-ups", C, "--on", "2023-10-01"],
    "history": ["history", C],
    "replay": ["audit", "replay", C, "--on", "2023-10-01", "--until", "2022-10-31"],
    "diff": [
        "audit",
        "replay",
        C,
        "--since",
        "2022-10-31",
        "--on",
        "2023-10-01",
        "--until",
        "2022-12-31",
        "--diff",
    ],
    "verify": ["audit", "verify"],
    "digest": ["audit", "digest"],
    "store_info": ["store", "info"],
    "import": ["import", "-"],
}


def mismatches(document: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Where `document` has keys other than the schema's, or lacks a required one."""
    found: list[str] = []
    if isinstance(document, dict) and schema.get("type") == "object":
        if "properties" in schema:
            keys, listed = set(document), set(schema["properties"])
            required = set(schema.get("required", listed))
            if keys - listed or required - keys:
                found.append(f"{path}: {sorted((keys - listed) | (required - keys))}")
            for key in keys & listed:
                found += mismatches(document[key], schema["properties"][key], f"{path}.{key}")
        elif isinstance(schema.get("additionalProperties"), dict):
            for key, value in document.items():
                found += mismatches(value, schema["additionalProperties"], f"{path}.{key}")
    elif isinstance(document, list) and schema.get("type") == "array":
        for i, item in enumerate(document):
            found += mismatches(item, schema["items"], f"{path}[{i}]")
    return found


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return staged_store(f"sqlite://{tmp_path_factory.mktemp('openapi')}/biv.sqlite3")


SCHEMA = openapi(max_body=1, rate_per_minute=1)
OPERATIONS = {
    op["operationId"]: op for methods in SCHEMA["paths"].values() for op in methods.values()
}


def test_every_endpoint_has_a_schema_and_an_example() -> None:
    assert set(OPERATIONS) == {e.name for e in ENDPOINTS}
    for name, op in OPERATIONS.items():
        content = op["responses"]["200"]["content"]["application/json"]
        assert content["schema"].get("type") == "object", name
        assert mismatches(content["example"], content["schema"]) == [], name
        assert {"400", "404", "422", "500"} <= set(op["responses"])


@pytest.mark.parametrize("name", sorted(CLI))
def test_each_schema_has_the_keys_the_cli_prints(
    name: str,
    store: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the store recorded as the examples were; when the CLI prints the same query
    if name == "import":
        import io

        monkeypatch.setattr("sys.stdin", io.StringIO(EXAMPLE_IMPORT))
    capsys.readouterr()
    assert main([*CLI[name], "--json", "--store", store]) == 0
    printed = json.loads(capsys.readouterr().out)
    # Then its document has exactly the schema's keys, at every level, as the example has
    content = OPERATIONS[name]["responses"]["200"]["content"]["application/json"]
    assert mismatches(printed, content["schema"]) == []
    assert set(printed) == set(content["example"])


def test_the_examples_file_is_the_one_the_generator_writes() -> None:
    from biv_adapters.http.examples import EXAMPLES, make_examples

    committed = json.loads(Path(EXAMPLES).read_text("utf-8"))
    made = make_examples()
    assert {k: v["request"] for k, v in committed.items()} == {
        k: v["request"] for k, v in made.items()
    }


def test_only_the_demo_mark_is_optional() -> None:
    # Every key is required but `demo`, which only a store holding the demo's history shows
    for name, operation in OPERATIONS.items():
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        if "properties" in schema:
            optional = set(schema["properties"]) - set(schema["required"])
            assert optional <= {"demo"}, name
    budget = OPERATIONS["budget"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "demo" in budget["properties"]
