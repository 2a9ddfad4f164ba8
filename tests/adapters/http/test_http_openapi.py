"""The OpenAPI schema against the CLI: the document `biv … --json` prints for each endpoint's
example query, on a store recorded as the examples were, is valid under the endpoint's schema
(made from its declared type), and so is each example; every mounted route is declared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from biv_adapters.cli import main
from biv_adapters.http import openapi as openapi_module
from biv_adapters.http.app import create_app
from biv_adapters.http.auth import Access
from biv_adapters.http.endpoints import ENDPOINTS
from biv_adapters.http.examples import EXAMPLE_IMPORT
from biv_adapters.http.log import CHECKPOINT, LOG_ENDPOINTS
from biv_adapters.http.openapi import openapi
from biv_adapters.http.tokens import MemoryTokens
from biv_domain.ledger import Ledger
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


def violations(document: Any, schema: dict[str, Any]) -> list[str]:
    """Where `document` breaks `schema` (its $refs resolved in the OpenAPI's components)."""
    import jsonschema_rs

    root = {**schema, "components": SCHEMA["components"]}
    validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
    return [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return staged_store(f"sqlite://{tmp_path_factory.mktemp('openapi')}/biv.sqlite3")


SCHEMA = openapi(max_body=1, rate_per_minute=1)
OPERATIONS = {
    op["operationId"]: op for methods in SCHEMA["paths"].values() for op in methods.values()
}


def test_every_endpoint_has_a_schema_and_an_example() -> None:
    log = {e.name for e in (CHECKPOINT, *LOG_ENDPOINTS)}  # the log's, declared by http.log
    assert {e.name for e in ENDPOINTS} | log <= set(OPERATIONS)
    for endpoint in ENDPOINTS:
        op = OPERATIONS[endpoint.name]
        content = op["responses"]["200"]["content"]["application/json"]
        assert violations(content["example"], content["schema"]) == [], endpoint.name
        assert {"400", "404", "422", "500"} <= set(op["responses"])


def test_every_mounted_route_is_in_the_schema() -> None:
    from starlette.routing import Mount, Route

    app = create_app(Ledger(), Access(MemoryTokens(), require_tokens=False, local_user="t"))
    paths = SCHEMA["paths"]
    for route in app.routes:
        if isinstance(route, Mount):
            assert any(p.startswith(route.path + "/{") for p in paths), route.path
            continue
        assert isinstance(route, Route)
        assert route.path in paths, f"{route.path} is mounted but not declared"
        for method in route.methods or ():
            if method != "HEAD":
                assert method.lower() in paths[route.path], (route.path, method)


def test_an_endpoint_without_a_declared_response_has_no_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import attrs

    undeclared = attrs.evolve(ENDPOINTS[0], returns=None)
    monkeypatch.setattr(openapi_module, "ENDPOINTS", (undeclared,))
    with pytest.raises(TypeError, match="declares no `returns`"):
        openapi(max_body=1_000_000, rate_per_minute=60)


def test_a_nullable_field_is_nullable_and_an_absent_one_optional() -> None:
    named = SCHEMA["components"]["schemas"]
    standing = named["FollowUpStanding"]["properties"]
    assert standing["closed_on"] == {"type": ["string", "null"], "format": "date"}
    assert "null" in standing["assessment"]["type"]
    receipt = named["ImportReceipt"]
    assert "erased" not in receipt["required"]
    assert receipt["properties"]["erased"] == {"type": "integer"}
    published = named["PublishedFiguresDocument"]["properties"]
    assert {"threshold", "suppressed", "from", "to"} <= set(published)
    assert published["by_age_band"]["additionalProperties"] == {"type": ["integer", "null"]}
    assert "support_minutes" not in named["PublishedFiguresDocument"]["required"]
    budget = named["BudgetDocument"]["properties"]["by_fiscal_year"]
    assert budget["propertyNames"] == {"pattern": "^-?[0-9]+$"}


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
    assert violations(printed, content["schema"]) == []
    assert set(printed) == set(content["example"])


def test_the_examples_file_is_the_one_the_generator_writes() -> None:
    from biv_adapters.http.examples import EXAMPLES, make_examples

    committed = json.loads(Path(EXAMPLES).read_text("utf-8"))
    made = make_examples()
    assert {k: v["request"] for k, v in committed.items()} == {
        k: v["request"] for k, v in made.items()
    }


def test_a_demo_stores_mark_is_an_optional_key_of_every_query() -> None:
    """The key `demo`, which only a store holding the demo's history shows (issue 23), is in
    the schema of every query's document, and optional."""
    components = SCHEMA["components"]["schemas"]
    marked = [e for e in ENDPOINTS if e.returns is not None and "demo" in e.returns.optional]
    assert {"budget", "report", "history", "follow_ups"} <= {e.name for e in marked}
    for endpoint in marked:
        content = OPERATIONS[endpoint.name]["responses"]["200"]["content"]["application/json"]
        schema = content["schema"]
        for ref in [schema] if "$ref" in schema else schema["anyOf"]:
            component = components[ref["$ref"].rsplit("/", 1)[-1]]
            assert "demo" in component["properties"], endpoint.name
            assert "demo" not in component["required"], endpoint.name
