"""`python -m logreg ...` is the `logreg` command."""

import sys

from logreg.apps.cli import main

sys.exit(main())
