"""Config loading: every problem at once, each with file:line, key path and a hint."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import load_config, parse_duration, parse_size
from monitor.core.errors import ConfigError

RULES = """\
entities:
  karabakh: {label: Nagorno-Karabakh, aliases: [Karabakh, Artsakh]}
topics:
  ceasefire: {query: 'ceasefire OR truce'}
  escalation: {query: 'shelling OR artillery', severity: high}
watches:
  - name: karabakh
    query: '@karabakh'
    topics: [ceasefire, escalation]
    notify: [console]
"""

MAIN = """\
database: sqlite:///state/monitor.db
poll: {interval: 5m}
feeds:
  - {name: wire, url: "https://example.org/rss"}
channels:
  console: {url: "console://"}
rules: [rules/*.yaml]
"""


def write(tmp_path: Path, main: str = MAIN, rules: str = RULES) -> Path:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "main.yaml").write_text(rules, encoding="utf-8")
    (tmp_path / "monitor.yaml").write_text(main, encoding="utf-8")
    return tmp_path / "monitor.yaml"


def problems(tmp_path: Path, main: str = MAIN, rules: str = RULES) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, main, rules))
    return [p.removeprefix(str(tmp_path) + "/") for p in caught.value.problems]


BROKEN_MAIN = [
    (
        "misspelt key with did-you-mean",
        MAIN.replace("poll: {interval: 5m}", "poll: {intervall: 5m}"),
        ["monitor.yaml:2: poll.intervall: unknown key; did you mean 'interval'?"],
    ),
    (
        "misspelt top-level key",
        MAIN.replace("feeds:", "feed:"),
        ["monitor.yaml:3: feed: unknown key; did you mean 'feeds'?"],
    ),
    (
        "bad duration",
        MAIN.replace("interval: 5m", "interval: soon"),
        ["monitor.yaml:2: poll.interval: 'soon' is not a duration; write it like 90s, 5m, 2h or 1d"],
    ),
    (
        "bad size",
        MAIN.replace("poll: {interval: 5m}", "poll: {max_bytes: lots}"),
        ["monitor.yaml:2: poll.max_bytes: 'lots' is not a size; write it like 512KB, 5MB or 1GiB"],
    ),
    (
        "feed without url",
        MAIN.replace('{name: wire, url: "https://example.org/rss"}', "{name: wire}"),
        ["monitor.yaml:4: feeds[0].url: Field required"],
    ),
    (
        "feed url not http",
        MAIN.replace("https://example.org/rss", "ftp://example.org/rss"),
        [
            "monitor.yaml:4: feeds[0].url: 'ftp://example.org/rss' is not an http(s) URL; feeds are fetched "
            "over HTTP, e.g. https://example.org/rss"
        ],
    ),
    (
        "duplicate feed names",
        MAIN.replace(
            '  - {name: wire, url: "https://example.org/rss"}\n',
            '  - {name: wire, url: "https://example.org/rss"}\n  - {name: wire, url: "https://example.org/b"}\n',
        ),
        ["monitor.yaml:5: feeds[1].name: 'wire' is already used at line 4; feed names must be unique"],
    ),
    (
        "unset secret",
        MAIN.replace(
            'console: {url: "console://"}',
            'console: {url: "console://"}\n  hook: {url: "json://h/${NOPE_TOKEN}"}',
        ),
        [
            "monitor.yaml:7: channels.hook.url: ${NOPE_TOKEN} is not set; export NOPE_TOKEN in the environment "
            "(e.g. the EnvironmentFile of the systemd unit) or provide a credential file named NOPE_TOKEN "
            "(systemd LoadCredential=)"
        ],
    ),
    (
        "rules glob matching nothing",
        MAIN.replace("rules: [rules/*.yaml]", "rules: [rules/*.yaml, extra/*.yml]"),
        ["monitor.yaml:7: rules[1]: 'extra/*.yml' matches no file (relative to {tmp}/)"],
    ),
    (
        "YAML syntax error",
        MAIN.replace("poll: {interval: 5m}", "poll: {interval: 5m"),
        ["monitor.yaml:3:6: YAML syntax error: expected ',' or '}', but got ':'"],
    ),
    (
        "not a mapping",
        "- just\n- a list\n",
        ["monitor.yaml:1: the config must be a mapping of keys (database, poll, feeds, channels, rules)"],
    ),
]


@pytest.mark.parametrize(("case", "main", "expected"), BROKEN_MAIN, ids=[c[0] for c in BROKEN_MAIN])
def test_broken_main_config_is_reported_with_file_line_and_hint(
    tmp_path: Path, case: str, main: str, expected: list[str]
) -> None:
    """Each broken main file yields exactly the expected message(s), with file:line and a hint."""
    monkey_free = [e.replace("{tmp}", str(tmp_path)) for e in expected]
    assert problems(tmp_path, main=main) == monkey_free, case


BROKEN_RULES = [
    (
        "unknown channel with did-you-mean",
        RULES.replace("notify: [console]", "notify: [consol]"),
        [
            "rules/main.yaml:10: watch 'karabakh': unknown channel 'consol'; did you mean 'console'? "
            "(channels in the main config: console)"
        ],
    ),
    (
        "unknown topic with did-you-mean",
        RULES.replace("topics: [ceasefire, escalation]", "topics: [ceasfire, escalation]"),
        ["rules/main.yaml:9: watch 'karabakh': unknown topic 'ceasfire'; did you mean 'ceasefire'?"],
    ),
    (
        "misspelt watch key",
        RULES.replace("    notify: [console]", "    notfy: [console]"),
        ["rules/main.yaml:10: watches[0].notfy: unknown key; did you mean 'notify'?"],
    ),
    (
        "entity without aliases",
        RULES.replace("{label: Nagorno-Karabakh, aliases: [Karabakh, Artsakh]}", "{label: Nagorno-Karabakh}"),
        ["rules/main.yaml:2: entities.karabakh.aliases: Field required"],
    ),
    (
        "bad severity",
        RULES.replace("severity: high", "severity: extreme"),
        [
            "rules/main.yaml:5: topics.escalation.severity: 'extreme' is not a severity; write one of low, "
            "medium, high, critical, or a mapping with base, weights and levels"
        ],
    ),
]


@pytest.mark.parametrize(("case", "rules", "expected"), BROKEN_RULES, ids=[c[0] for c in BROKEN_RULES])
def test_broken_rule_file_is_reported_with_file_line_and_hint(
    tmp_path: Path, case: str, rules: str, expected: list[str]
) -> None:
    """Each broken rule file yields exactly the expected message, naming the rule file and line."""
    assert problems(tmp_path, rules=rules) == expected, case


def test_bad_query_points_at_file_line_column_with_a_caret(tmp_path: Path) -> None:
    """A query that does not parse names file:line:column (column within the file) and draws a caret."""
    found = problems(tmp_path, rules=RULES.replace("query: '@karabakh'", "query: '@karabakh AND (truce'"))
    assert len(found) == 1
    head, query_line, caret_line = found[0].split("\n")
    # The query starts after "    query: '" (12 characters) on line 8; it ends unclosed at query column 21.
    assert head == (
        "rules/main.yaml:8:33: watches[0].query: expected ')' to close '(' opened at column 15, "
        "found the end of the query"
    )
    assert query_line == "    @karabakh AND (truce"
    assert caret_line == "    " + " " * 20 + "^"


def test_unknown_entity_in_query_is_an_error_not_a_skip(tmp_path: Path) -> None:
    """A watch naming an entity that no rule file defines fails loading with a did-you-mean."""
    found = problems(tmp_path, rules=RULES.replace("query: '@karabakh'", "query: '@karabak'"))
    assert len(found) == 1 and found[0].startswith("rules/main.yaml:8:13: watches[0].query: ")
    assert "karabakh" in found[0].split("\n")[0]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """Problems in the main file and in a rule file come back together, not one per run."""
    main = MAIN.replace("interval: 5m", "interval: soon").replace("feeds:", "feeds:\n  - {name: b}")
    rules = RULES.replace("notify: [console]", "notify: [nowhere]")
    found = problems(tmp_path, main=main, rules=rules)
    assert [p.split(":")[0:2] for p in found] == [
        ["monitor.yaml", "2"],
        ["monitor.yaml", "4"],
        ["rules/main.yaml", "10"],
    ], found


def test_secret_comes_from_credentials_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """${NAME} falls back to a systemd credential file when the environment does not set it."""
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "HOOK_TOKEN").write_text("s3cret-token\n", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    monkeypatch.delenv("HOOK_TOKEN", raising=False)
    main = MAIN.replace(
        'console: {url: "console://"}',
        'console: {url: "console://"}\n  hook: {url: "json://h/${HOOK_TOKEN}"}',
    )
    config = load_config(write(tmp_path, main=main))
    assert config.settings.channels["hook"].url.get_secret_value() == "json://h/s3cret-token"
    assert "s3cret-token" not in repr(config.settings)


def test_valid_config_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    """The SQLite path and rule globs resolve against the config file's folder, not the working directory."""
    config = load_config(write(tmp_path))
    assert config.database_url == f"sqlite:///{tmp_path}/state/monitor.db"
    assert [w.name for w in config.rules.watches] == ["karabakh"]
    assert config.feed_interval(config.settings.feeds[0]) == timedelta(minutes=5)


def test_shipped_config_is_valid() -> None:
    """The default config and rule pack in config/ load without a single problem."""
    config = load_config(Path(__file__).resolve().parents[3] / "config" / "monitor.yaml")
    assert config.settings.feeds and "console" in config.settings.channels
    assert {"ceasefire", "escalation"} <= set(config.rules.topics)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("5m", 300), ("1.5h", 5400), ("2d", 172800), (45, 45), ("250ms", 0.25)]
)
def test_durations(text: object, seconds: float) -> None:
    """Durations are written with a unit or as plain seconds."""
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize(
    ("text", "size"), [("5MB", 5_000_000), ("512KiB", 524288), ("100", 100), (2048, 2048)]
)
def test_sizes(text: object, size: int) -> None:
    """Sizes are written with a decimal or binary unit or as plain bytes."""
    assert parse_size(text) == size


def test_delivery_block_defaults_and_overrides(tmp_path: Path) -> None:
    """Without a delivery block the outbox retries 12 times over at most 24h; the block overrides it."""
    config = load_config(write(tmp_path))
    policy = config.retry_policy
    assert (policy.max_attempts, policy.max_age, policy.base, policy.cap) == (
        12,
        timedelta(hours=24),
        timedelta(seconds=30),
        timedelta(hours=1),
    )
    assert config.settings.delivery.operator_channel is None
    main = (
        MAIN
        + "delivery: {max_attempts: 3, max_age: 2h, retry_base: 0s, retry_cap: 5m, operator_channel: console}\n"
    )
    config = load_config(write(tmp_path, main))
    assert (config.retry_policy.max_attempts, config.retry_policy.base) == (3, timedelta(0))
    assert config.settings.delivery.operator_channel == "console"


def test_unknown_operator_channel_and_bad_delivery_keys_are_reported(tmp_path: Path) -> None:
    """A misspelt operator channel gets a did-you-mean with its line; a cap below the base is refused."""
    main = MAIN + "delivery:\n  operator_channel: consol\n"
    assert problems(tmp_path, main) == [
        "monitor.yaml:9: delivery.operator_channel: unknown channel 'consol'; did you mean 'console'? "
        "(channels in this file: console)"
    ]
    main = MAIN + "delivery: {retry_base: 2h, retry_cap: 1h, max_atempts: 3}\n"
    found = problems(tmp_path, main)
    assert any("delivery.max_atempts: unknown key; did you mean 'max_attempts'?" in p for p in found)


def test_events_only_defaults_on_and_is_set_per_watch(tmp_path: Path) -> None:
    """Without an alerts block every watch waits for event reports; alerts.defaults and alerts.watches.NAME
    switch it off, and a non-boolean value is refused with its line."""
    config = load_config(write(tmp_path))
    assert config.alert_policy("karabakh").events_only is True
    main = MAIN + "alerts:\n  defaults: {events_only: false}\n  watches:\n    karabakh: {events_only: true}\n"
    config = load_config(write(tmp_path, main))
    assert config.default_alert_policy.events_only is False
    assert config.alert_policy("karabakh").events_only is True
    assert config.alert_policy("elsewhere").events_only is False
    found = problems(tmp_path, MAIN + "alerts:\n  defaults: {events_only: sometimes}\n")
    assert len(found) == 1 and found[0].startswith("monitor.yaml:9: alerts.defaults.events_only")


def test_a_watch_policy_takes_alerts_defaults_for_the_keys_it_leaves_out(tmp_path: Path) -> None:
    """alerts.watches.NAME overrides only the keys it sets; the rest come from alerts.defaults."""
    main = (
        MAIN
        + "alerts:\n  defaults: {min_sources: 3, max_age: 2h}\n  watches:\n    karabakh: {update_at_sources: 5}\n"
    )
    policy = load_config(write(tmp_path, main)).alert_policy("karabakh")
    assert (policy.min_sources, policy.max_age, policy.update_at_sources) == (3, timedelta(hours=2), 5)


def test_phases_default_on_and_are_switched_off_per_watch(tmp_path: Path) -> None:
    """Turning points alert by default; alerts.watches.NAME.phases: false switches them off for that watch
    only, and a non-boolean value is refused with its line."""
    config = load_config(write(tmp_path))
    assert config.alert_policy("karabakh").phases is True
    main = MAIN + "alerts:\n  watches:\n    karabakh: {phases: false}\n"
    config = load_config(write(tmp_path, main))
    assert config.alert_policy("karabakh").phases is False
    assert config.alert_policy("elsewhere").phases is True
    found = problems(tmp_path, MAIN + "alerts:\n  defaults: {phases: often}\n")
    assert len(found) == 1 and found[0].startswith("monitor.yaml:9: alerts.defaults.phases")


def test_story_core_settings_reach_the_clusterer(tmp_path: Path) -> None:
    """stories.core_reports, core_similarity and core_span default to the clusterer's and are set from the
    file; `core_span: null` switches the time limit off, and an impossible value is refused with its line."""
    params = load_config(write(tmp_path)).story_params
    assert (params.core_reports, params.core_similarity, params.core_span) == (8, 0.15, timedelta(hours=36))
    main = MAIN + "stories: {core_reports: 5, core_similarity: 0.25, core_span: 2d}\n"
    params = load_config(write(tmp_path, main)).story_params
    assert (params.core_reports, params.core_similarity, params.core_span) == (5, 0.25, timedelta(days=2))
    params = load_config(write(tmp_path, MAIN + "stories: {core_span: null}\n")).story_params
    assert params.core_span is None
    found = problems(tmp_path, MAIN + "stories: {core_reports: 0}\n")
    assert len(found) == 1 and found[0].startswith("monitor.yaml:8: stories.core_reports")


def test_a_watch_busy_block_is_settings_and_replaces_the_default_block_whole(tmp_path: Path) -> None:
    """alerts.watches.NAME.busy is validated like alerts.defaults.busy; the keys it leaves out take the
    built-in defaults (the block replaces alerts.defaults.busy as a whole), and `busy: null` switches the
    rule off for that watch only."""
    main = MAIN + "alerts:\n  watches:\n    karabakh: {busy: {after: 10}}\n"
    config = load_config(write(tmp_path, main))
    busy = config.alert_policy("karabakh").busy
    assert busy is not None and (busy.after, busy.per, busy.min_sources) == (10, timedelta(hours=24), 2)
    main = (
        MAIN + "alerts:\n  defaults: {max_age: 2h, busy: {after: 3, per: 6h, min_sources: 4}}\n"
        "  watches:\n    karabakh: {busy: {per: 12h}}\n"
    )
    config = load_config(write(tmp_path, main))
    busy, default = config.alert_policy("karabakh").busy, config.default_alert_policy.busy
    assert busy is not None and (busy.after, busy.per, busy.min_sources) == (5, timedelta(hours=12), 2)
    assert default is not None and (default.after, default.per) == (3, timedelta(hours=6))
    assert config.alert_policy("karabakh").max_age == timedelta(hours=2)
    off = load_config(write(tmp_path, main.replace("{per: 12h}", "null"))).alert_policy("karabakh")
    assert off.busy is None and off.max_age == timedelta(hours=2)
    found = problems(tmp_path, MAIN + "alerts:\n  watches:\n    karabakh: {busy: {after: 0}}\n")
    assert len(found) == 1 and found[0].startswith("monitor.yaml:10: alerts.watches.karabakh.busy.after")
