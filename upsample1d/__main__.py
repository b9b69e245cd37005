import sys

from upsample1d.cli import main

sys.exit(main())
