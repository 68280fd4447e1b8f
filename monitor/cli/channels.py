"""`news-monitor test-channel`: one test message to one channel, with the exact reason when it fails."""

from __future__ import annotations

import sys

from monitor.config import Config
from monitor.runtime import logs as logging_setup


def test_channel(config: Config, name: str) -> int:
    from monitor.core.hints import did_you_mean
    from monitor.delivery import hooks as apprise_hooks
    from monitor.delivery.channel import Channel
    from monitor.delivery.secrets import secret_parts
    from monitor.render.notices import render_test

    channels = config.settings.channels
    if name not in channels:
        known = ", ".join(channels) or "none defined"
        print(
            f"news-monitor test-channel: unknown channel '{name}'{did_you_mean(name, channels)} "
            f"(channels in {config.path}: {known})",
            file=sys.stderr,
        )
        return 2
    apprise_hooks.install()
    url = channels[name].url.get_secret_value()
    logging_setup.register_secrets({url, *secret_parts(url)})
    outcome = Channel(name, url).send(render_test(name))
    if outcome.ok:
        print(f"{name}: sent")
        return 0
    kind = "retryable" if outcome.retryable else "permanent"
    print(f"{name}: failed ({kind}): {outcome.reason}")
    return 1
