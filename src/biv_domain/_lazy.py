"""A package's names loaded when first asked for (PEP 562), in one place for every package.

Importing one module of a package then loads nothing else of it: `biv --version` reads
`biv_domain._version` alone, and a question imports none of the ledger's write side.
"""

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def loaded_when_asked(
    namespace: dict[str, Any], homes: Mapping[str, tuple[str, ...]]
) -> Callable[[str], object]:
    """A package's `__getattr__`: each name of `homes` (module -> its names) imported from its
    module when first asked for, then kept in `namespace` (the package's `globals()`) as a
    plain attribute."""
    home = {name: module for module, names in homes.items() for name in names}

    def __getattr__(name: str) -> object:
        if name in home:
            value = getattr(import_module(home[name]), name)
            namespace[name] = value  # asked once: a plain attribute from then on
            return value
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")

    return __getattr__
