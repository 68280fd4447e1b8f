"""The `news-monitor` command line: options, dispatch to one module per command group, exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from monitor import __version__
from monitor.cli.channels import test_channel
from monitor.cli.check import check_config
from monitor.cli.classify import cluster_items, match_items
from monitor.cli.exits import EX_CONFIG
from monitor.cli.outbox import outbox
from monitor.cli.replay import replay_items
from monitor.cli.stories import stories
from monitor.config import CONFIG_ENV, default_config_path, load_config
from monitor.core.errors import ConfigError, MonitorError
from monitor.db.records import DeliveryStatus
from monitor.runtime import logs as logging_setup

_EPILOG = f"""\
examples:
  news-monitor check-config -c config/monitor.yaml
  news-monitor run --once            poll every feed once, deliver alerts, exit
  news-monitor run                   the daemon (what the systemd unit starts)
  news-monitor match items.jsonl     classify items without touching the database
  echo '{{"id": 1, "title": "Truce collapses as shelling resumes"}}' | news-monitor match -
  news-monitor cluster items.jsonl   story assignment without the database (backtests)
  news-monitor replay --all-watches items.jsonl   what the daemon would have sent for these items
  news-monitor stories --since 24h   each watch's phase, recent stories with sources, topics and alerts
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
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="default INFO; WARNING for match, cluster and replay, whose logs go to stderr",
    )
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
        help="print a readable explanation per item (topics, severity, reasons, the phase each topic's story "
        "is in, watches, entities, the matched words highlighted in context) instead of JSON",
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
    replay = add(
        "replay",
        "Backtest: run items (in publication order) through the daemon's own match, story and alert-policy "
        "steps on a throw-away database, the clock at each item's publication time; one JSON line per "
        'message it would queue (before channel routing): {"at", "watch", "story", "kind": '
        'alert|update|phase, "severity", "topics", "item", "title", "reasons"}; a summary on stderr.',
    )
    replay.add_argument(
        "inputs",
        nargs="*",
        default=["-"],
        metavar="INPUT",
        help="JSON Lines file of items in publication order (id, title, summary|description, content, "
        "link, published|date, outlet), an RSS/Atom file, or - for stdin (default)",
    )
    replay.add_argument(
        "--all-watches",
        action="store_true",
        help="switch on every watch of the rule pack, also those shipped with enabled: false",
    )
    replay.add_argument(
        "--held",
        action="store_true",
        help='also print each item that matched a watch but sent nothing, as kind "held" with the reason '
        "(commentary waiting for an event report, waiting for sources, older than max_age, nothing new)",
    )
    stories = add(
        "stories",
        "Each watch's current phase (e.g. ceasefire in effect) and since when, then recent stories with "
        "their sources, topics and alert history.",
    )
    stories.add_argument(
        "--since", default="48h", metavar="DURATION", help="stories updated within this time (default 48h)"
    )
    stories.add_argument("--limit", type=int, default=20, help="at most this many stories (default 20)")
    stories.add_argument(
        "--json",
        action="store_true",
        help="JSON Lines instead of text: one object per story (with --phases: one {watch, phases} object "
        "per watch instead)",
    )
    stories.add_argument(
        "--phases", action="store_true", help="only each watch's current phase and since when, no stories"
    )
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
        choices=[*(status.value for status in DeliveryStatus.current()), "all"],
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
    # match, cluster and replay write data to stdout: their logs go to stderr, and only problems by default
    data_out = args.command in ("match", "cluster", "replay")
    level = args.log_level or ("WARNING" if data_out else "INFO")
    logging_setup.configure(level, json=json_logs, stream=sys.stderr if data_out else None)
    try:
        path = args.config or default_config_path()
        # match and cluster only classify text: they need neither the channels nor the templates checked
        if data_out:
            config = load_config(path)
        else:
            from monitor.runtime import configuration  # deferred: imports Apprise and Jinja

            config = configuration.load(path)
        if args.command == "check-config":
            return check_config(config)
        if args.command == "match":
            return match_items(config, args.inputs, explain=args.explain)
        if args.command == "cluster":
            return cluster_items(config, args.inputs)
        if args.command == "replay":
            return replay_items(config, args.inputs, all_watches=args.all_watches, held=args.held)
        if args.command == "stories":
            return stories(
                config, since=args.since, limit=args.limit, as_json=args.json, phases_only=args.phases
            )
        if args.command == "test-channel":
            return test_channel(config, args.name)
        if args.command == "outbox":
            return outbox(config, status=args.status, limit=args.limit, retry=args.retry)
        from monitor.runtime import daemon  # deferred: the scheduler is only needed to run

        return daemon.run_once(config) if args.once else daemon.run_forever(config)
    except ConfigError as error:
        print(f"news-monitor: configuration has {len(error.problems)} problem(s):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EX_CONFIG
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `news-monitor replay ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except MonitorError as error:
        print(f"news-monitor: {error}", file=sys.stderr)
        return 1
