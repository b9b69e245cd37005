"""``python -m upsample1d``: the ``upsample1d`` command (see :mod:`upsample1d.cli`)."""

import sys

from upsample1d.cli import main

if __name__ == "__main__":
    sys.exit(main())
