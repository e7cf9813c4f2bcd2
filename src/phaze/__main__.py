import sys

from phaze.cli import main

sys.exit(main())
