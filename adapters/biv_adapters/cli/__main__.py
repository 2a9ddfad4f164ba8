"""`python -m biv_adapters.cli …`: the `biv` command without its installed script."""

import sys

from biv_adapters.cli import main

sys.exit(main())
