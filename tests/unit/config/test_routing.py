"""Routing in the config files: channel defaults, notify entries as names or mappings, and every mistake
reported with file:line and a fix (did-you-mean for channel names, topics and time zones)."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.alerts.schedule import parse_cron
from monitor.config import Config, load_config
from monitor.core.errors import ConfigError
from monitor.match.rules import NotifyRoute

RULES = """\
topics:
  ceasefire: {query: truce}
  escalation: {query: shelling}
watches:
  - name: w
    query: 'Zetaland'
    topics: [ceasefire, escalation]
    notify:
NOTIFY
"""


def write(tmp_path: Path, channels: str, notify: str) -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "r.yaml").write_text(RULES.replace("NOTIFY", notify), encoding="utf-8")
    (tmp_path / "monitor.yaml").write_text(f"channels:\n{channels}rules: [rules/*.yaml]\n", encoding="utf-8")
    return tmp_path / "monitor.yaml"


def problems(tmp_path: Path, channels: str, notify: str = "      - hook") -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, channels, notify))
    return raised.value.problems


def test_channel_defaults_and_watch_overrides_load_into_routing_rules(tmp_path: Path) -> None:
    """A full channel block and a mixed notify list (name and mapping) load; channel_rules carries them."""
    config: Config = load_config(
        write(
            tmp_path,
            "  hook:\n"
            "    url: 'json://127.0.0.1:9/x'\n"
            "    min_severity: medium\n"
            "    topics: [escalation]\n"
            "    digest: '0 8 * * mon-fri'\n"
            "    timezone: Europe/Berlin\n"
            "    quiet_hours: {start: '22:00', end: '07:00'}\n"
            "    rate_limit: {max: 10, per: 1h}\n"
            "  mail: {url: 'json://127.0.0.1:9/y'}\n",
            "      - hook\n      - {channel: mail, min_severity: high, mode: immediate, topics: [ceasefire]}",
        )
    )
    [watch] = config.rules.watches
    assert watch.notify[0] == "hook"  # the plain form stays a plain name
    assert watch.routes == [
        NotifyRoute(channel="hook"),
        NotifyRoute(channel="mail", min_severity="high", mode="immediate", topics=["ceasefire"]),
    ]
    rules = config.channel_rules("hook")
    assert (rules.min_severity, rules.topics, rules.mode) == ("medium", {"escalation"}, "immediate")
    berlin = ZoneInfo("Europe/Berlin")  # the digest runs in the channel's zone
    assert rules.digest == parse_cron("0 8 * * mon-fri").in_zone(
        berlin
    )  # its meaning: alerts/test_schedule.py
    assert rules.quiet is not None and (rules.quiet.start, rules.quiet.end) == (time(22), time(7))
    assert str(rules.quiet.zone) == "Europe/Berlin"  # quiet hours default to the channel's zone
    assert rules.rate is not None and (rules.rate.max, rules.rate.per) == (10, timedelta(hours=1))
    assert config.channel_rules("mail").digest is None


def test_bad_schedule_zone_time_and_limit_are_reported_at_their_lines(tmp_path: Path) -> None:
    """Each bad value is named with its file:line and how to write it."""
    found = problems(
        tmp_path,
        "  hook:\n"
        "    url: 'json://127.0.0.1:9/x'\n"
        "    digest: '0 25 * * *'\n"
        "    timezone: Europe/Berln\n"
        "    quiet_hours: {start: 22:00, end: '07:00'}\n"
        "    rate_limit: {max: 0, per: 1h}\n",
    )
    config = tmp_path / "monitor.yaml"
    assert f"{config}:4: channels.hook.digest: '0 25 * * *': hour field '25': 25 is out of range" in found[0]
    assert f"{config}:5: channels.hook.timezone:" in found[1] and "did you mean 'Europe/Berlin'?" in found[1]
    assert f"{config}:6: channels.hook.quiet_hours.start: 1320 is not a time of day; quote it" in found[2]
    assert f"{config}:7: channels.hook.rate_limit.max:" in found[3]
    assert len(found) == 4


def test_notify_mistakes_point_at_the_rule_file_line(tmp_path: Path) -> None:
    """A misspelt channel gets a did-you-mean, a listed-twice channel, a topic outside the watch's, a
    digest without schedule, and an unknown key in a mapping are each reported at their rule-file line."""
    rules = tmp_path / "rules" / "r.yaml"
    found = problems(
        tmp_path,
        "  hook: {url: 'json://127.0.0.1:9/x'}\n  mail: {url: 'json://127.0.0.1:9/y', mode: digest}\n",
        "      - {channel: hok}\n"
        "      - hook\n"
        "      - {channel: hook, mode: digest}\n"
        "      - {channel: mail, topics: [shelling]}",
    )
    expected = [
        f"{tmp_path / 'monitor.yaml'}:3: channels.mail.mode: digest needs a schedule",
        f"{rules}:9: watch 'w': unknown channel 'hok'; did you mean 'hook'?",
        f"{rules}:11: watch 'w': channel 'hook' is listed twice in notify",
        f"{rules}:11: watch 'w': notify hook: mode digest needs a schedule",
        f"{rules}:12: watch 'w': notify mail: topic 'shelling' is not one of the watch's topics",
    ]
    for message in expected:
        assert any(p.startswith(message) for p in found), (message, found)
    assert len(found) == 5
    found = problems(
        tmp_path, "  hook: {url: 'json://127.0.0.1:9/x'}\n", "      - {channel: hook, mod: digest}"
    )
    assert found == [f"{rules}:9: watches[0].notify[0].mod: unknown key; did you mean 'mode'?"]
    found = problems(tmp_path, "  hook: {url: 'json://127.0.0.1:9/x'}\n", "      - 42")
    assert found[0].startswith(
        f"{rules}:9: watches[0].notify[0]: a notify entry is a channel name or a mapping"
    )


def test_a_route_whose_topics_can_never_match_is_reported_at_its_notify_line(tmp_path: Path) -> None:
    """A channel taking only topics the watch never alerts on (bare name or mapping) and an empty topics
    list are reported at the notify entry; channel [ceasefire] with watch route [escalation] is valid."""
    (tmp_path / "rules").mkdir()
    rules = tmp_path / "rules" / "r.yaml"
    rules.write_text(
        "topics:\n"
        "  ceasefire: {query: truce}\n"
        "  escalation: {query: shelling}\n"
        "watches:\n"
        "  - name: w\n"
        "    query: Zetaland\n"
        "    topics: [escalation]\n"
        "    notify:\n"
        "      - brief\n"
        "      - {channel: mail, topics: []}\n"
        "      - {channel: desk}\n"
        "  - name: both\n"
        "    query: Etaland\n"
        "    topics: [ceasefire, escalation]\n"
        "    notify: [{channel: brief, topics: [escalation]}]\n",
        encoding="utf-8",
    )
    main = tmp_path / "monitor.yaml"
    main.write_text(
        "channels:\n"
        "  brief: {url: 'json://127.0.0.1:9/b', topics: [ceasefire]}\n"
        "  mail: {url: 'json://127.0.0.1:9/m'}\n"
        "  desk: {url: 'json://127.0.0.1:9/d', topics: [ceasefire]}\n"
        "rules: [rules/*.yaml]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(main)
    assert raised.value.problems == [
        f"{rules}:9: watch 'w': notify brief: can never match: channels.brief.topics (ceasefire) has none of "
        "the watch's topics (escalation); add one of them to the channel's topics, or drop brief from this "
        "watch's notify list",
        f"{rules}:10: watch 'w': notify mail: topics: [] can never match; list some of the watch's topics or "
        "remove the key",
        f"{rules}:11: watch 'w': notify desk: can never match: channels.desk.topics (ceasefire) has none of "
        "the watch's topics (escalation); add one of them to the channel's topics, or drop desk from this "
        "watch's notify list",
    ]
    rules.write_text(
        rules.read_text(encoding="utf-8")
        .replace("topics: [escalation]\n", "topics: [escalation, ceasefire]\n", 1)
        .replace("      - {channel: mail, topics: []}\n", ""),
        encoding="utf-8",
    )
    assert [w.name for w in load_config(main).rules.watches] == ["w", "both"]


def test_a_digest_schedule_that_never_fires_is_reported_at_its_line(tmp_path: Path) -> None:
    """A cron date that does not exist (30 February, 31 April) would hold alerts forever: it is refused
    at its file:line with the reason."""
    found = problems(
        tmp_path,
        "  hook: {url: 'json://127.0.0.1:9/x', mode: digest, digest: '0 0 30 2 *'}\n"
        "  mail: {url: 'json://127.0.0.1:9/y', digest: '0 0 31 4 *'}\n",
    )
    config = tmp_path / "monitor.yaml"
    assert found == [
        f"{config}:2: channels.hook.digest: '0 0 30 2 *' never fires: day 30 never occurs in February; "
        "use a day from 1 to 29",
        f"{config}:3: channels.mail.digest: '0 0 31 4 *' never fires: day 31 never occurs in April; "
        "use a day from 1 to 30",
    ]
