"""The `news-monitor` command line; one module per command group (see `main` for the dispatch)."""

from monitor.cli.main import main

__all__ = ["main"]
