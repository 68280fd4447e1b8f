"""The `news-monitor` command. Maps errors to exit codes: 78 bad config, 65 bad input, 1 anything else."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from monitor import __version__
from monitor.config import CONFIG_ENV, Config, default_config_path, load_config
from monitor.core import instance
from monitor.core.errors import ConfigError, FeedError, MonitorError
from monitor.runtime import logs as logging_setup

if TYPE_CHECKING:
    from monitor.db.store import OutboxEntry

EX_DATAERR = 65
EX_CONFIG = 78

_EPILOG = f"""\
examples:
  news-monitor check-config -c config/monitor.yaml
  news-monitor run --once            poll every feed once, deliver alerts, exit
  news-monitor run                   the daemon (what the systemd unit starts)
  news-monitor match items.jsonl     classify items without touching the database
  echo '{{"id": 1, "title": "Truce collapses as shelling resumes"}}' | news-monitor match -
  news-monitor cluster items.jsonl   story assignment without the database (backtests)
  news-monitor stories --since 24h   recent stories with sources, topics and alert history
  news-monitor test-channel ops-email   send a test message; print the exact reason if it fails
  news-monitor outbox --status dead     deliveries given up; --retry ID queues one again

The config file is -c FILE, else ${CONFIG_ENV}, else ./config/monitor.yaml.
Exit codes: 0 ok, 65 bad input data, 78 bad configuration, 1 other errors.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="news-monitor",
        description="Watch news feeds for ceasefires and military escalations; alert once per story, with evidence.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument(
        "--log-format", choices=["json", "console"], help="default: console on a terminal, JSON otherwise"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "-c",
            "--config",
            type=Path,
            default=None,
            metavar="FILE",
            help=f"main config file (default: ${CONFIG_ENV} or config/monitor.yaml)",
        )
        return sub

    run = add("run", "Run the daemon: poll feeds on schedule, match, alert. Stops cleanly on SIGTERM/SIGINT.")
    run.add_argument(
        "--once", action="store_true", help="poll every feed once, deliver pending alerts, exit 0"
    )
    add(
        "check-config", "Validate the config and every rule file; print every problem (exit 78) or a summary."
    )
    match = add(
        "match",
        "Classify items without touching the database; one JSON object per item on stdout, in input order.",
    )
    match.add_argument(
        "inputs",
        nargs="*",
        default=["-"],
        metavar="INPUT",
        help="JSON Lines file of items (id, title, summary|description, content, link, published), "
        "an RSS/Atom file, or - for stdin (default)",
    )
    match.add_argument(
        "--explain",
        action="store_true",
        help="print a readable explanation per item (topics, severity, reasons, watches, entities, the "
        "matched words highlighted in context) instead of JSON",
    )
    cluster = add(
        "cluster",
        "Assign items to stories without touching the database, with the daemon's window and settings; "
        'one {"id", "story"} object per item on stdout, in input order.',
    )
    cluster.add_argument(
        "inputs",
        nargs="*",
        default=["-"],
        metavar="INPUT",
        help="JSON Lines file of items in publication order (id, title, summary|description, link, "
        "published, outlet), an RSS/Atom file, or - for stdin (default)",
    )
    stories = add("stories", "List recent stories with their sources, topics and alert history.")
    stories.add_argument(
        "--since", default="48h", metavar="DURATION", help="stories updated within this time (default 48h)"
    )
    stories.add_argument("--limit", type=int, default=20, help="at most this many stories (default 20)")
    stories.add_argument("--json", action="store_true", help="one JSON object per story instead of text")
    test_channel = add(
        "test-channel", "Send a short test message to one configured channel; print 'sent' or the reason."
    )
    test_channel.add_argument("name", metavar="NAME", help="a channel name from the config's channels:")
    outbox = add(
        "outbox",
        "List outbox deliveries (pending, held for a digest/quiet hours/rate limit, dead-lettered, sent, "
        "folded into a digest) or put a dead one back in the queue.",
    )
    outbox.add_argument(
        "--status",
        choices=["pending", "held", "dead", "sent", "folded", "all"],
        help="only deliveries with this status (default: pending, held and dead)",
    )
    outbox.add_argument(
        "--limit", type=int, default=50, help="at most this many rows, newest first (default 50)"
    )
    outbox.add_argument(
        "--retry", type=int, metavar="ID", help="queue delivery ID again, due now, with its attempts reset"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    json_logs = None if args.log_format is None else args.log_format == "json"
    logging_setup.configure(args.log_level, json=json_logs)
    try:
        config = load_config(args.config or default_config_path())
        if args.command == "check-config":
            return _check_config(config)
        if args.command == "match":
            return _match(config, args.inputs, explain=args.explain)
        if args.command == "cluster":
            return _cluster(config, args.inputs)
        if args.command == "stories":
            return _stories(config, since=args.since, limit=args.limit, as_json=args.json)
        if args.command == "test-channel":
            return _test_channel(config, args.name)
        if args.command == "outbox":
            return _outbox(config, status=args.status, limit=args.limit, retry=args.retry)
        from monitor.runtime import daemon  # deferred: the scheduler is only needed to run

        return daemon.run_once(config) if args.once else daemon.run_forever(config)
    except ConfigError as error:
        print(f"news-monitor: configuration has {len(error.problems)} problem(s):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EX_CONFIG
    except KeyboardInterrupt:
        return 130
    except MonitorError as error:
        print(f"news-monitor: {error}", file=sys.stderr)
        return 1


def _check_config(config: Config) -> int:
    settings = config.settings
    enabled = [w for w in config.rules.watches if w.enabled]
    print(f"{config.path}: OK")
    print(f"  database: {config.database_url.split('@')[-1]}")
    print(f"  feeds:    {len(settings.feeds)} ({sum(f.enabled for f in settings.feeds)} enabled)")
    print(f"  channels: {len(settings.channels)} ({', '.join(settings.channels) or 'none'})")
    print(
        f"  rules:    {len(config.rule_files)} file(s), {len(config.rules.entities)} entities, "
        f"{len(config.rules.topics)} topics"
    )
    print(
        f"  watches:  {len(config.rules.watches)} ({len(enabled)} enabled: {', '.join(w.name for w in enabled)})"
    )
    return 0


# --- match ---------------------------------------------------------------------------------------


def _match(config: Config, inputs: list[str], *, explain: bool = False) -> int:
    from monitor.match import Matcher
    from monitor.match.explain import render

    matcher = Matcher.compile(config.rules)
    out = sys.stdout
    color = explain and out.isatty()
    records = _Records("match", inputs)
    for _name, record in records:
        fields = {
            "title": record.get("title") or "",
            "summary": record.get("summary") or record.get("description") or "",
            "content": record.get("content") or "",
        }
        result = matcher.match(**fields)
        if explain:
            out.write(render(record.get("id"), fields, result, color=color) + "\n\n")
        else:
            out.write(json.dumps({"id": record.get("id"), **result.to_json()}, ensure_ascii=False) + "\n")
    out.flush()
    return records.finish()


class _Records:
    """The good records of every input, in order; a bad one is named on stderr and counted, and never
    stops the stream. `finish` reports the count and gives the exit code."""

    def __init__(self, command: str, inputs: list[str]) -> None:
        self.command, self.inputs, self.bad = command, inputs, 0

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for name in self.inputs:
            for record in _read_items(name):
                if isinstance(record, str):
                    print(f"news-monitor {self.command}: {record}", file=sys.stderr)
                    self.bad += 1
                else:
                    yield name, record

    def finish(self) -> int:
        if self.bad:
            print(f"news-monitor {self.command}: skipped {self.bad} bad input record(s)", file=sys.stderr)
        return EX_DATAERR if self.bad else 0


def _read_items(name: str) -> Iterator[dict[str, Any] | str]:
    """Items from a JSON Lines or RSS/Atom file (or stdin), streamed; a problem is yielded as a message."""
    try:
        stream: IO[bytes] = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115
    except OSError as exc:
        yield f"{name}: cannot open: {exc.strerror}"
        return
    with stream:
        buffered = io.BufferedReader(stream) if not isinstance(stream, io.BufferedReader) else stream
        head = buffered.peek(64).lstrip(b"\xef\xbb\xbf \t\r\n")  # a UTF-8 BOM may precede XML
        if head.startswith(b"<"):
            yield from _feed_items(name, buffered.read())
        else:
            yield from _jsonl_items(name, buffered)


def _feed_items(name: str, body: bytes) -> Iterator[dict[str, Any] | str]:
    from monitor.feeds.parser import parse_feed

    try:
        parsed = parse_feed(body, url=name)
    except FeedError as error:
        yield f"{name}: {error}"
        return
    for index, item in enumerate(parsed.items, 1):
        yield {
            "id": item.guid or item.link or f"{name}#{index}",
            "title": item.title,
            "summary": item.summary,
            "content": item.content,
        }


_TEXT_FIELDS = ("title", "summary", "description", "content", "link", "outlet", "published")


def _jsonl_items(name: str, stream: IO[bytes]) -> Iterator[dict[str, Any] | str]:
    for number, raw in enumerate(stream, 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield f"{name}:{number}: not valid JSON ({exc}); each line must be one JSON object"
            continue
        if not isinstance(record, dict):
            yield f"{name}:{number}: expected a JSON object with 'title' (and summary or description)"
            continue
        wrong = [k for k in _TEXT_FIELDS if record.get(k) is not None and not isinstance(record[k], str)]
        if wrong:
            yield f"{name}:{number}: {', '.join(wrong)} must be text (a JSON string or null)"
            continue
        yield record


# --- cluster and stories -------------------------------------------------------------------------


def _cluster(config: Config, inputs: list[str]) -> int:
    from monitor.stories.clusterer import StoryClusterer, cluster_records

    clusterer = StoryClusterer(config.story_params)
    out = sys.stdout
    records = _Records("cluster", inputs)

    def with_outlet() -> Iterator[dict[str, Any]]:
        for name, record in records:
            record.setdefault("outlet", name)
            yield record

    for doc, assignment in cluster_records(with_outlet(), clusterer):
        line = {"id": doc.id, "story": assignment.story}
        if assignment.copy_of:
            line["copy_of"] = assignment.copy_of
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    out.flush()
    return records.finish()


def _stories(config: Config, *, since: str, limit: int, as_json: bool) -> int:
    from datetime import UTC, datetime

    from monitor.config import parse_duration
    from monitor.db.engine import make_engine, migrate
    from monitor.db.store import Store

    try:
        window = parse_duration(since)
    except ValueError as exc:
        print(f"news-monitor stories: --since: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(config.database_url)
    try:
        migrate(engine)
        stories = Store(engine).recent_stories(datetime.now(UTC) - window, limit=limit)
    finally:
        engine.dispose()
    out = sys.stdout
    for story in stories:
        if as_json:
            out.write(json.dumps(_story_json(story), ensure_ascii=False) + "\n")
            continue
        out.write(
            f"story {story.id} · {story.updated_at:%Y-%m-%d %H:%M} UTC · {story.sources} independent "
            f"source(s), {story.items} item(s) · topics: {', '.join(story.topics) or 'none'}\n"
            f"  {story.title}\n"
        )
        for source in story.members:
            out.write(
                f"    {source.outlet}{' (reprint)' if source.copy else ''}: {source.link or source.title}\n"
            )
        for alert in story.alerts:
            why = f" ({'; '.join(alert.reasons)})" if alert.reasons else ""
            out.write(
                f"    alert #{alert.seq} {alert.kind} → {alert.watch}/{alert.channel}: {alert.status}{why}\n"
            )
    if not stories and not as_json:
        out.write(f"no stories updated in the last {since}\n")
    out.flush()
    return 0


def _story_json(story: Any) -> dict[str, Any]:
    return {
        "id": story.id,
        "title": story.title,
        "created_at": story.created_at.isoformat() if story.created_at else None,
        "updated_at": story.updated_at.isoformat() if story.updated_at else None,
        "items": story.items,
        "sources": story.sources,
        "topics": story.topics,
        "outlets": [{"name": s.outlet, "link": s.link, "reprint": s.copy} for s in story.members],
        "alerts": [
            {
                "watch": a.watch,
                "channel": a.channel,
                "kind": a.kind,
                "seq": a.seq,
                "status": a.status,
                "reasons": a.reasons,
            }
            for a in story.alerts
        ],
    }


# --- delivery: test-channel and outbox -----------------------------------------------------------


def _test_channel(config: Config, name: str) -> int:
    from monitor.config import did_you_mean
    from monitor.delivery import hooks as apprise_hooks
    from monitor.delivery.channel import Channel
    from monitor.delivery.secrets import secret_parts
    from monitor.render import render_test

    channels = config.settings.channels
    if name not in channels:
        known = ", ".join(channels) or "none defined"
        print(
            f"news-monitor test-channel: unknown channel '{name}'{did_you_mean(name, channels)} "
            f"(channels in {config.path}: {known})",
            file=sys.stderr,
        )
        return 2
    url = channels[name].url.get_secret_value()
    apprise_hooks.install()
    logging_setup.register_secrets({url, *secret_parts(url)})
    outcome = Channel(name, url).send(render_test(name))
    if outcome.ok:
        print(f"{name}: sent")
        return 0
    kind = "retryable" if outcome.retryable else "permanent"
    print(f"{name}: failed ({kind}): {outcome.reason}")
    return 1


def _outbox(config: Config, *, status: str | None, limit: int, retry: int | None) -> int:
    from datetime import UTC, datetime

    from monitor.db.engine import make_engine, migrate
    from monitor.db.store import Store

    engine = make_engine(config.database_url)
    try:
        migrate(engine)
        store = Store(engine)
        if retry is not None:
            return _retry_delivery(store, retry, datetime.now(UTC))
        statuses = {None: ["pending", "held", "dead"], "all": None}.get(status, [status])
        rows = store.outbox(statuses, limit=limit)
    finally:
        engine.dispose()
    _print_outbox(rows)
    return 0


def _retry_delivery(store: Any, delivery_id: int, now: Any) -> int:
    previous = store.retry_delivery(delivery_id, now)
    if previous is None:
        print(f"news-monitor outbox: no delivery with id {delivery_id}", file=sys.stderr)
        return 1
    if previous in ("sent", "folded"):
        how = "already sent" if previous == "sent" else "folded into a digest (retry the digest)"
        print(f"news-monitor outbox: delivery {delivery_id} was {how}; not sending it twice", file=sys.stderr)
        return 1
    print(f"delivery {delivery_id}: was {previous}, now pending (due now, attempts reset)")
    return 0


_HELD_FOR = {"digest": "digest mode", "rate": "rate limit", "quiet": "quiet hours"}


def _outbox_note(r: OutboxEntry) -> str:
    """Why a row waits or where it went; else its last error (stored scrubbed: no URL, no secret)."""
    if r.status == "held":
        return f"held: {_HELD_FOR.get(r.held_for, r.held_for or 'routing')}"
    if r.status == "folded":
        return f"in digest {r.digest_id}"
    error = " ".join((r.last_error or "").split())[:160]
    if r.status == "pending" and r.interrupted:
        error = "; ".join(filter(None, [f"the daemon stopped during {r.interrupted} send(s)", error]))
    if r.status == "pending" and r.claimed_by:  # TRIES counts this send; it ends, or a restart frees it
        who = instance.parse(r.claimed_by)
        error = "; ".join(filter(None, [f"claimed by {who.label if who else r.claimed_by}", error]))
    if r.kind == "digest":
        return f"{r.title}; {error}" if error else r.title
    return error or "-"


def _print_outbox(rows: list[OutboxEntry]) -> None:
    """A fixed-width table. A held row's next attempt is its release time, or the channel's next digest."""
    header = (
        "ID",
        "CREATED (UTC)",
        "CHANNEL",
        "WATCH",
        "KIND",
        "STATUS",
        "TRIES",
        "NEXT ATTEMPT",
        "NOTE",
    )
    table = [header] + [
        (
            str(r.id),
            f"{r.created_at:%Y-%m-%d %H:%M}" if r.created_at else "-",
            r.channel,
            r.watch or "(digest)",
            r.kind,
            r.status,
            str(r.attempts),
            f"{r.next_attempt_at:%Y-%m-%d %H:%M:%S}"
            if r.next_attempt_at
            else ("next digest" if r.status == "held" else "-"),
            _outbox_note(r),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    out = sys.stdout
    for row in table:
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[-1]
            + "\n"
        )
    if not rows:
        out.write("no deliveries\n")
    out.flush()
