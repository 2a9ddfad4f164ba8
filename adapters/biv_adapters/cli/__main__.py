"""`python -m biv_adapters.cli …`: the `biv` command without its installed script."""

from biv_adapters.cli import run

run()
