"""Delivery through Apprise: channels, failure classes, the secret parts of channel URLs, and the Apprise
hooks, which `monitor.delivery.hooks.install()` installs at start-up (importing this package changes
nothing in Apprise).

- `channel`: `Channel` (one Apprise service: body form, size limits, send) and `check_channel_url`;
- `failures`: why a send failed, from Apprise's log lines, and whether to retry;
- `secrets`: the fragments of a channel URL that must never be shown;
- `hooks`: Apprise's logger, its email module and console://.
"""
