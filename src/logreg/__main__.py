"""`python -m logreg ...` is the `logreg` command."""

import sys

from logreg.cli import main

sys.exit(main())
