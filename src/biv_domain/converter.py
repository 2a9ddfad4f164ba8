"""The one cattrs converter and the one JSON library: how commands, events, facts
and every printed document become JSON and back.

It is strict on purpose, because the exchange format is a contract: a date is
"YYYY-MM-DD", an amount is a string of kronor, a count is a JSON integer, a
list is a list. Where cattrs would quietly coerce (5 to "5", "12" to 12, 12.7
to 12), this converter refuses and says which field and why.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs
import orjson
from cattrs import Converter
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from biv_domain.errors import InvalidValue, Refused
from biv_domain.model.dates import parse_iso_date
from biv_domain.model.figures import PublishedFigures, ReportFigures
from biv_domain.model.money import Money

if TYPE_CHECKING:
    from biv_domain.model.commands import Command

converter = Converter(forbid_extra_keys=True)


def _structure_date(value: object, _type: object) -> date:
    return parse_iso_date(value)


def _structure_datetime(value: object, _type: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO 8601 time, got {value!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; recorded times are UTC")
    return moment.astimezone(UTC)


def _structure_money(value: object, _type: object) -> Money:
    try:
        return Money.parse(value)
    except Refused as refusal:
        raise ValueError(refusal.reason) from None


def _structure_int(value: object, int_type: type[int]) -> int:
    # bool is a subclass of int, so it arrives here too.
    if int_type is bool:
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, got {value!r}")
        return value
    if type(value) is not int:
        raise ValueError(f"must be a whole number, got {value!r}")
    return value


def _structure_text(value: object, _type: object) -> str:
    if type(value) is not str and not isinstance(value, str):
        raise ValueError(f"must be a string, got {value!r}")
    if not value.isascii():  # the common case skips the encoding
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # JSON's "\ud800" escapes to text that no UTF-8 store can hold.
            raise ValueError(f"must be Unicode text, got {value!r}") from None
    return value


def _structure_vocabulary(value: object, text_type: type[StrEnum]) -> StrEnum:
    # Every StrEnum is a subclass of str; its own hook (more specific than str's) checks
    # the value against the vocabulary, and spells the choices out only to refuse.
    if isinstance(value, str):
        member = text_type._value2member_map_.get(value)
        if member is not None:
            return member  # type: ignore[return-value]
    choices = ", ".join(member.value for member in text_type)
    raise ValueError(f"must be one of {choices}, got {value!r}")


def _structure_refs(value: object, _type: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a list of participant references, got {value!r}")
    return tuple(value)


converter.register_structure_hook(date, _structure_date)
converter.register_unstructure_hook(date, date.isoformat)
converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(datetime, lambda moment: moment.isoformat())
converter.register_structure_hook(Money, _structure_money)
converter.register_unstructure_hook(Money, str)
converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(str, _structure_text)
converter.register_structure_hook(StrEnum, _structure_vocabulary)
converter.register_structure_hook_func(lambda t: t == tuple[str, ...], _structure_refs)


def _structure_optional_text(value: object, _type: object) -> str | None:
    # What cattrs does for `str | None` (None, else the str hook), without its dispatch per call.
    return None if value is None else _structure_text(value, str)


def _structure_optional_int(value: object, _type: object) -> int | None:
    return None if value is None else _structure_int(value, int)


converter.register_structure_hook_func(lambda t: t == (str | None), _structure_optional_text)
converter.register_structure_hook_func(lambda t: t == (int | None), _structure_optional_int)
converter.register_unstructure_hook(StrEnum, lambda member: member.value)

_structure_fields_checked = converter.get_structure_hook(dict[str, Any])


def _structure_fields(value: object, type_: object) -> dict[str, Any]:
    """A JSON object of any values (a stored fact's event): copied as it is when plainly valid.

    Anything else (a key that is not text, a value that is no object) goes the way
    cattrs checks it, so it is refused exactly as before.
    """
    if type(value) is dict and all(type(k) is str and k.isascii() for k in value):
        return dict(value)
    result: dict[str, Any] = _structure_fields_checked(value, type_)
    return result


converter.register_structure_hook_func(lambda t: t == dict[str, Any], _structure_fields)
converter.register_unstructure_hook(Decimal, str)
# The exchange contract calls a report's window "from" and "to", Python keywords.


def _objects_only(cls: type[Any]) -> Callable[[object, object], Any]:
    """A nested value such as `information` must be a JSON object before its fields are read."""
    structure = make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True)

    def structure_object(value: object, _type: object) -> Any:
        if type(value) is not dict and not isinstance(value, Mapping):
            names = ", ".join(a.name for a in attrs.fields(cls))
            raise ValueError(f"must be a JSON object with {names}, got {value!r}")
        return structure(value, cls)

    return structure_object


converter.register_structure_hook_factory(attrs.has, _objects_only)
# A report's window is "from" and "to" in JSON: Python keywords, so `start` and `end` in Python.
# Typed Any: cattrs takes overrides as **kwargs beside its own keyword options.
WINDOW_NAMES: dict[str, Any] = {"start": override(rename="from"), "end": override(rename="to")}
# These hooks, as every class's, are made when a type is first converted (each costs a compile),
# through factories that match the type itself: a command that converts none pays nothing.


def _loaded(module: str, name: str) -> Callable[[object], bool]:
    """Whether a type is `module.name`, without importing the module: a type of a module
    nobody imported is never asked for (the log's proofs, for a budget)."""
    return lambda t: t is getattr(sys.modules.get(module), name, None)


def _is_report_figures(t: object) -> bool:
    return t is ReportFigures


_windowed_document = _loaded("biv_domain.model.log_proofs", "ConsistencyProof")


def _named_as_a_window(t: object) -> bool:
    return t is ReportFigures or t is PublishedFigures or _windowed_document(t)


converter.register_unstructure_hook_factory(
    _named_as_a_window, lambda cls: make_dict_unstructure_fn(cls, converter, **WINDOW_NAMES)
)
# A consistency proof is {"from", "to", "hashes"} (issue 21), named as a window is; a report's
# figures are read back so, and published figures only written.
converter.register_structure_hook_factory(
    lambda t: _is_report_figures(t) or _windowed_document(t),
    lambda cls: make_dict_structure_fn(
        cls, converter, _cattrs_forbid_extra_keys=True, **WINDOW_NAMES
    ),
)


# --- Reading back what a store holds --------------------------------------------------------------
# Every stored fact was written through `converter` above and is sealed into the store's hash
# chain, so reading it back need not check the exchange rules again: `store_reader` only
# rebuilds the shapes (no per-field refusals, no error trees), which makes a decode about twice
# as fast. It stays for that speed alone, configured here beside the one converter: the ledger
# asks it for each row (`biv_domain.ledger.envelope.read`; cattrs keeps each type's hook, no
# other cache does) and falls back to `converter` for a row it cannot read, so that a damaged
# row is still refused naming its field.

store_reader = Converter(detailed_validation=False)


def _stored_as(kind: type[Any], optional: bool = False) -> Callable[[object, object], Any]:
    """A stored value taken as it is, if it is of its kind (no coercion: "5" is no int)."""

    def read(value: object, _type: object) -> Any:
        if type(value) is not kind and not (optional and value is None):
            raise TypeError(f"a stored {kind.__name__} is {value!r}")
        return value

    return read


for _kind in (str, int, bool):
    store_reader.register_structure_hook(_kind, _stored_as(_kind))
store_reader.register_structure_hook(date, lambda value, _type: date.fromisoformat(value))
store_reader.register_structure_hook(datetime, lambda value, _type: datetime.fromisoformat(value))
store_reader.register_structure_hook(Money, lambda value, _type: Money.read(value))
_stored_list = _stored_as(list)  # made once: an attendee list is rebuilt on most rows
store_reader.register_structure_hook_func(
    lambda t: t == tuple[str, ...], lambda v, _t: tuple(_stored_list(v, list))
)
store_reader.register_structure_hook_func(lambda t: t == dict[str, Any], _stored_as(dict))
# As stored: no dispatch on the union, and a vocabulary's member by a dict's lookup.
store_reader.register_structure_hook_func(lambda t: t == str | None, _stored_as(str, True))
store_reader.register_structure_hook_func(lambda t: t == int | None, _stored_as(int, True))
store_reader.register_structure_hook(
    StrEnum, lambda value, text_type: text_type._value2member_map_[value]
)
store_reader.register_structure_hook_factory(
    _is_report_figures,
    lambda cls: make_dict_structure_fn(
        cls, store_reader, _cattrs_detailed_validation=False, **WINDOW_NAMES
    ),
)


def structure_command(data: Mapping[str, Any]) -> Command:
    """Reads one exchange-format object into a command, or refuses naming the field.

    The `"command"` key names the command; `"id"` belongs to the exchange line,
    not the command, and is left to the caller.
    """
    from biv_domain.model.commands import COMMANDS  # loaded by the first command read

    name = data.get("command")
    if not isinstance(name, str) or name not in COMMANDS:
        known = ", ".join(COMMANDS)
        raise InvalidValue("command", f"must name a known command ({known}), got {name!r}")
    command_type = COMMANDS[name]
    payload = {k: v for k, v in data.items() if k not in ("command", "id")}
    try:
        return converter.structure(payload, command_type)
    except ClassValidationError as error:
        raise _refusal_from(error) from None


def _refusal_from(error: BaseException, field: str = "") -> Refused:
    """The first precise refusal inside a cattrs error tree."""
    if isinstance(error, Refused):
        return error
    if isinstance(error, ForbiddenExtraKeysError):
        extra = sorted(error.extra_fields)
        return InvalidValue(f"{field}.{extra[0]}" if field else extra[0], "is not a field here")
    if isinstance(error, ClassValidationError | IterableValidationError):
        for inner in error.exceptions:
            name = field
            for note in getattr(inner, "__notes__", []):
                attribute = getattr(note, "name", None)
                if isinstance(attribute, str):
                    name = f"{field}.{attribute}" if field else attribute
            return _refusal_from(inner, name)
    if isinstance(error, KeyError):
        return InvalidValue(field or str(error), "is required")
    return InvalidValue(field or "command", str(error))


refusal_from = _refusal_from  # what a reader of stored facts names when one cannot be read


# --- JSON text ------------------------------------------------------------------------------------
# orjson is the one JSON library: it reads stored facts several times faster than the
# standard library, and its sorted, compact output is byte for byte what the chain of
# format-1 stores was hashed over (a property test holds it to that).


def canonical_json(value: object) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes a fact is stored and hashed as."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def json_text(value: object, *, indent: bool = True) -> str:
    """A document as `--json` prints it: indented, non-ASCII kept as it is."""
    # Fiscal years are int keys in Python and text keys in JSON, as json.dumps writes them.
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(value, option=option).decode()


def document(value: object) -> Any:
    """Any value of the domain as a JSON-ready document, through the converter's hooks."""
    return converter.unstructure(value)


def parse_json(text: str | bytes) -> Any:
    """JSON text as Python values; raises ValueError (orjson.JSONDecodeError) when it is not."""
    return orjson.loads(text)
