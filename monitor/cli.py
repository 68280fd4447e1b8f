"""The `news-monitor` command. Maps errors to exit codes: 78 bad config, 65 bad input, 1 anything else."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from monitor import __version__
from monitor import log as logging_setup
from monitor.errors import ConfigError, FeedError, MonitorError
from monitor.settings import CONFIG_ENV, Config, default_config_path, load_config

EX_DATAERR = 65
EX_CONFIG = 78

_EPILOG = f"""\
examples:
  news-monitor check-config -c config/monitor.yaml
  news-monitor run --once            poll every feed once, deliver alerts, exit
  news-monitor run                   the daemon (what the systemd unit starts)
  news-monitor match items.jsonl     classify items without touching the database
  echo '{{"id": 1, "title": "Truce collapses as shelling resumes"}}' | news-monitor match -

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
            return _match(config, args.inputs)
        from monitor import daemon  # deferred: the scheduler is only needed to run

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


def _match(config: Config, inputs: list[str]) -> int:
    from monitor.match import Matcher

    matcher = Matcher.compile(config.rules)
    bad = 0
    out = sys.stdout
    for name in inputs:
        for record in _read_items(name):
            if isinstance(record, str):
                print(f"news-monitor match: {record}", file=sys.stderr)
                bad += 1
                continue
            result = matcher.match(
                title=record.get("title") or "",
                summary=record.get("summary") or record.get("description") or "",
                content=record.get("content") or "",
            )
            out.write(json.dumps({"id": record.get("id"), **result.to_json()}, ensure_ascii=False) + "\n")
    out.flush()
    if bad:
        print(f"news-monitor match: skipped {bad} bad input record(s)", file=sys.stderr)
    return EX_DATAERR if bad else 0


def _read_items(name: str) -> Iterator[dict[str, Any] | str]:
    """Items from a JSON Lines or RSS/Atom file (or stdin), streamed; a problem is yielded as a message."""
    try:
        stream: IO[bytes] = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115
    except OSError as exc:
        yield f"{name}: cannot open: {exc.strerror}"
        return
    with stream:
        buffered = io.BufferedReader(stream) if not isinstance(stream, io.BufferedReader) else stream
        head = buffered.peek(64).lstrip()
        if head.startswith(b"<"):
            yield from _feed_items(name, buffered.read())
        else:
            yield from _jsonl_items(name, buffered)


def _feed_items(name: str, body: bytes) -> Iterator[dict[str, Any] | str]:
    from monitor.parse import parse_feed

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


def _jsonl_items(name: str, stream: IO[bytes]) -> Iterator[dict[str, Any] | str]:
    for number, raw in enumerate(stream, 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield f"{name}:{number}: not valid JSON ({exc}); each line must be one JSON object"
            continue
        if not isinstance(record, dict) or not isinstance(record.get("title", ""), str):
            yield f"{name}:{number}: expected an object with a string 'title' (and summary or description)"
            continue
        yield record
