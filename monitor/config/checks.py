"""Checks across keys and files that a per-key schema cannot make: unique names, references between the
main file and the rule files, routes that can never deliver. Each appends `file:line: key: message`."""

from __future__ import annotations

from monitor.config.located import Located, dotted
from monitor.config.rules import Source
from monitor.config.schema import ChannelSettings, Settings
from monitor.core.hints import did_you_mean
from monitor.match import check_rules
from monitor.match.rules import RulePack, WatchSpec


def check_feeds(settings: Settings, located: Located, problems: list[str]) -> None:
    seen: dict[str, int] = {}
    for index, feed in enumerate(settings.feeds):
        if feed.name in seen:
            first = located.line(("feeds", seen[feed.name]))
            problems.append(
                f"{located.where(('feeds', index, 'name'))}: feeds[{index}].name: '{feed.name}' is already used "
                f"at line {first}; feed names must be unique"
            )
        seen.setdefault(feed.name, index)


def check_alert_watches(settings: Settings, pack: RulePack, located: Located, problems: list[str]) -> None:
    names = [w.name for w in pack.watches]
    for name in settings.alerts.watches:
        if name not in names:
            problems.append(
                f"{located.where(('alerts', 'watches', name))}: alerts.watches.{name}: no watch of that name in "
                f"the rule files{did_you_mean(name, names)}"
            )


def check_operator_channel(settings: Settings, located: Located, problems: list[str]) -> None:
    operator = settings.delivery.operator_channel
    if operator is not None and operator not in settings.channels:
        known = ", ".join(settings.channels) or "none defined"
        problems.append(
            f"{located.where(('delivery', 'operator_channel'))}: delivery.operator_channel: unknown channel "
            f"'{operator}'{did_you_mean(operator, settings.channels)} (channels in this file: {known})"
        )


def check_routes(
    settings: Settings,
    pack: RulePack,
    sources: dict[tuple[str, str], Source],
    located: Located,
    problems: list[str],
) -> None:
    """Routing that names what does not exist, or digests without a schedule (see `monitor.alerts.routing`)."""
    for name, channel in settings.channels.items():
        if channel.mode == "digest" and channel.digest is None:
            problems.append(
                f"{located.where(('channels', name, 'mode'))}: channels.{name}.mode: digest needs a schedule; "
                f'add channels.{name}.digest, e.g. digest: "0 8 * * *" (08:00 daily)'
            )
        for i, topic in enumerate(channel.topics or []):
            if topic not in pack.topics:
                problems.append(
                    f"{located.where(('channels', name, 'topics', i))}: channels.{name}.topics: unknown topic "
                    f"'{topic}'{did_you_mean(topic, pack.topics)}"
                )
    for watch in pack.watches:
        source = sources[("watches", watch.name)]
        for i, route in enumerate(watch.routes):
            channel = settings.channels.get(route.channel)
            at = (*source.path, "notify", i)
            _route_can_match(watch, i, channel, pack, source, problems)
            for j, topic in enumerate(route.topics or []):
                allowed = watch.topics or list(pack.topics)
                if topic not in allowed:
                    problems.append(
                        f"{source.located.where((*at, 'topics', j))}: watch '{watch.name}': notify "
                        f"{route.channel}: topic '{topic}' is not one of the watch's topics "
                        f"({', '.join(allowed) or 'none'}){did_you_mean(topic, allowed)}"
                    )
            if route.mode == "digest" and channel is not None and channel.digest is None:
                problems.append(
                    f"{source.located.where((*at, 'mode'))}: watch '{watch.name}': notify {route.channel}: "
                    f"mode digest needs a schedule; add channels.{route.channel}.digest to the main config, "
                    'e.g. digest: "0 8 * * *"'
                )


def _route_can_match(
    watch: WatchSpec,
    index: int,
    channel: ChannelSettings | None,
    pack: RulePack,
    source: Source,
    problems: list[str],
) -> None:
    """A channel's topics must share one with the watch's (its alerts carry only the watch's topics), and
    a notify entry's topics must not be empty: otherwise the route can never deliver anything."""
    route = watch.routes[index]
    entry = watch.notify[index]
    at = (*source.path, "notify", index, *(() if isinstance(entry, str) else ("channel",)))
    alerted = watch.topics or list(pack.topics)
    wanted = channel.topics if channel is not None else None
    if wanted is not None and all(t in pack.topics for t in wanted) and not set(wanted) & set(alerted):
        problems.append(
            f"{source.located.where(at)}: watch '{watch.name}': notify {route.channel}: can never match: "
            f"channels.{route.channel}.topics ({', '.join(wanted) or 'none'}) has none of the watch's topics "
            f"({', '.join(alerted) or 'none'}); add one of them to the channel's topics, or drop "
            f"{route.channel} from this watch's notify list"
        )
    if route.topics is not None and not route.topics:
        problems.append(
            f"{source.located.where((*source.path, 'notify', index, 'topics'))}: watch '{watch.name}': notify "
            f"{route.channel}: topics: [] can never match; list some of the watch's topics or remove the key"
        )


def check_rule_references(
    pack: RulePack, channels: list[str], sources: dict[tuple[str, str], Source], problems: list[str]
) -> None:
    for watch in pack.watches:
        source = sources[("watches", watch.name)]
        for i, topic in enumerate(watch.topics):
            if topic not in pack.topics:
                problems.append(
                    f"{source.located.where((*source.path, 'topics', i))}: watch '{watch.name}': unknown topic "
                    f"'{topic}'{did_you_mean(topic, pack.topics)}"
                )
        for i, route in enumerate(watch.routes):
            channel = route.channel
            at = (*source.path, "notify", i, *(() if isinstance(watch.notify[i], str) else ("channel",)))
            if channel not in channels:
                known = ", ".join(channels) or "none defined"
                problems.append(
                    f"{source.located.where(at)}: watch '{watch.name}': unknown channel "
                    f"'{channel}'{did_you_mean(channel, channels)} (channels in the main config: {known})"
                )
            elif channel in [r.channel for r in watch.routes[:i]]:
                problems.append(
                    f"{source.located.where(at)}: watch '{watch.name}': channel '{channel}' is listed twice in "
                    "notify; list each channel once (a mapping entry can narrow what it gets)"
                )
    watch_index = {f"watches.{i}": w.name for i, w in enumerate(pack.watches)}
    for key, error in check_rules(pack):
        kind, name, field = key.split(".", 2)
        source = (
            sources[("watches", watch_index[f"{kind}.{name}"])]
            if kind == "watches"
            else sources[(kind, name)]
        )
        path = (*source.path, *(int(p) if p.isdigit() else p for p in field.split(".")))
        caret = " " * (error.column - 1) + "^"
        problems.append(
            f"{source.located.where(path, error.column)}: {dotted(path)}: {error.message}\n"
            f"    {error.query}\n    {caret}"
        )
