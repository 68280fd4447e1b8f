"""`news-monitor check-config`: the summary printed when the whole configuration is valid."""

from __future__ import annotations

from monitor.config import Config


def check_config(config: Config) -> int:
    settings = config.settings
    enabled = [w for w in config.rules.watches if w.enabled]
    print(f"{config.path}: OK")
    print(f"  database: {config.database_url.split('@')[-1]}")
    print(f"  feeds:    {len(settings.feeds)} ({sum(f.enabled for f in settings.feeds)} enabled)")
    print(f"  channels: {len(settings.channels)} ({', '.join(settings.channels) or 'none'})")
    print(
        f"  rules:    {len(config.rule_files)} file(s), {len(config.rules.entities)} entities, "
        f"{len(config.rules.topics)} topics, {sum(len(t.phases) for t in config.rules.topics.values())} phases"
    )
    print(
        f"  watches:  {len(config.rules.watches)} ({len(enabled)} enabled: {', '.join(w.name for w in enabled)})"
    )
    return 0
