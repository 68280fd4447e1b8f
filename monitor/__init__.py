"""news-monitor: watches news feeds for ceasefires and military escalations."""

__version__ = "0.1.0"
