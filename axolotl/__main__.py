"""``python -m axolotl`` runs the command line."""

import sys

from axolotl.cli import main

sys.exit(main())
