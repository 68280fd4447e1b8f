"""Items for `match` and `cluster` from JSON Lines, RSS/Atom files or stdin, streamed one at a time, with
a clear message and exit code for each input that cannot be read."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from monitor.cli.exits import EX_DATAERR
from monitor.core.errors import FeedError


class Records:
    """The good records of every input, in order; a bad one is named on stderr and counted, and never
    stops the stream. `finish` reports the count and gives the exit code."""

    def __init__(self, command: str, inputs: list[str]) -> None:
        self.command, self.inputs, self.bad = command, inputs, 0

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for name in self.inputs:
            for record in read_items(name):
                if isinstance(record, str):
                    print(f"news-monitor {self.command}: {record}", file=sys.stderr)
                    self.bad += 1
                else:
                    yield name, record

    def finish(self) -> int:
        if self.bad:
            print(f"news-monitor {self.command}: skipped {self.bad} bad input record(s)", file=sys.stderr)
        return EX_DATAERR if self.bad else 0


def read_items(name: str) -> Iterator[dict[str, Any] | str]:
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
            "link": item.link or "",
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
