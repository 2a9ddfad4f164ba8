"""JSON Schemas of the documents, made from their types, as the converter writes them.

Each endpoint declares what it returns (`biv_adapters.http.responses.Returns`):
an attrs document class, a union of them, or a media type. Its schema is made
here from the class's fields and their type hints, following the converter's
rules (`biv_domain.converter`): a date is "YYYY-MM-DD", a recorded time ISO 8601,
an amount a string of kronor with two decimals, a vocabulary its values, a tuple
an array, a map an object of `additionalProperties` (a year's map has digit keys),
`X | None` nullable, a field marked `absent` optional (left out, never null). Every
attrs class becomes one component of `#/components/schemas`, named by its class.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Union, get_args, get_origin

import attrs

from biv_domain.converter import WINDOW_NAMES
from biv_domain.model.figures import PublishedFigures, ReportFigures
from biv_domain.model.log_proofs import ConsistencyProof
from biv_domain.model.money import Money

# The classes the converter writes with other keys than their fields' names.
RENAMED: dict[type[Any], dict[str, str]] = {
    cls: {name: o.rename for name, o in WINDOW_NAMES.items()}
    for cls in (ReportFigures, PublishedFigures, ConsistencyProof)
}
ABSENT = "biv_absent"  # an attrs field's metadata: left out of the document when None
MONEY = {
    "type": "string",
    "pattern": r"^-?[0-9]+\.[0-9]{2}$",
    "description": "kronor with two decimals (öre), exact",
}
DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": "exact decimal"}
SIMPLE: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    date: {"type": "string", "format": "date"},
    datetime: {"type": "string", "format": "date-time"},
    Money: MONEY,
    Decimal: DECIMAL,
}


class Components:
    """The component schemas made so far, by name; each attrs class made once."""

    def __init__(self) -> None:
        self.schemas: dict[str, dict[str, Any]] = {}
        self._names: dict[type[Any], str] = {}

    def ref(self, cls: type[Any]) -> dict[str, Any]:
        if cls not in self._names:
            name = cls.__name__
            if name in self.schemas:  # two classes of one name: the second says its module
                name = f"{cls.__module__.rsplit('.', 1)[-1].title()}{name}"
            self._names[cls] = name
            self.schemas[name] = {}  # taken before its fields, for a class that holds itself
            self.schemas[name] = object_schema(cls, self)
        return {"$ref": f"#/components/schemas/{self._names[cls]}"}

    def merged(
        self,
        name: str,
        cls: type[Any],
        extra: Mapping[str, Any],
        optional: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A component of `cls`'s fields and `extra` keys beside them (a document's as_known_at),
        and `optional` keys that only some answers carry (a demo store's mark)."""
        if name not in self.schemas:
            own = object_schema(cls, self)
            for key, hint in extra.items():  # a key of the class's own is replaced
                own["properties"][key] = schema_of(hint, self)
                if key not in own["required"]:
                    own["required"].append(key)
            for key, hint in (optional or {}).items():
                own["properties"][key] = schema_of(hint, self)
            self.schemas[name] = own
        return {"$ref": f"#/components/schemas/{name}"}


def object_schema(cls: type[Any], components: Components) -> dict[str, Any]:
    """The schema of an attrs class's document: each field (renamed as the converter does)."""
    hints = typing.get_type_hints(cls)
    renamed = RENAMED.get(cls, {})
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in attrs.fields(cls):
        key = renamed.get(field.name, field.name)
        hint = hints[field.name]
        if field.metadata.get(ABSENT):
            properties[key] = schema_of(_without_none(hint), components)
        else:
            properties[key] = schema_of(hint, components)
            required.append(key)
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("):
        schema["description"] = " ".join(cls.__doc__.split())
    return schema


def _without_none(hint: Any) -> Any:
    members = [m for m in get_args(hint) if m is not type(None)]
    return members[0] if len(members) == 1 else hint


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str) and "$ref" not in schema:
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def schema_of(hint: Any, components: Components) -> dict[str, Any]:
    """The JSON Schema of a value of type `hint`, as the converter writes it."""
    if hint is Any or hint is object:
        return {}
    if hint in SIMPLE:
        return dict(SIMPLE[hint])
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        members = get_args(hint)
        present = [m for m in members if m is not type(None)]
        inner = (
            schema_of(present[0], components)
            if len(present) == 1
            else {"anyOf": [schema_of(m, components) for m in present]}
        )
        return nullable(inner) if len(present) < len(members) else inner
    if origin is typing.Literal:
        return {"enum": list(get_args(hint))}
    if origin in (tuple, list, frozenset, set):
        args = get_args(hint)
        item = args[0] if args else Any
        return {"type": "array", "items": schema_of(item, components)}
    if origin in (dict, Mapping) or hint is dict:
        key, value = get_args(hint) or (str, Any)
        schema: dict[str, Any] = {
            "type": "object",
            "additionalProperties": schema_of(value, components),
        }
        if key is int:
            schema["propertyNames"] = {"pattern": "^-?[0-9]+$"}
        return schema
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return {"type": "string", "enum": [member.value for member in hint]}
    if isinstance(hint, type) and attrs.has(hint):
        return components.ref(hint)
    raise TypeError(f"no JSON Schema is known for {hint!r}: declare it in schemas.SIMPLE")
