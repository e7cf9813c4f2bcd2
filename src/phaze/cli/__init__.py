"""The `phaze` command line: thin wrappers that parse arguments and call library functions."""
from phaze.cli.main import main

__all__ = ["main"]
