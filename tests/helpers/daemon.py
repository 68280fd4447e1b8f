"""`news-monitor run` in a subprocess whose JSON log events a test can wait on as they are written.

    daemon = start_daemon(config, stderr=tmp_path / "daemon.err")
    daemon.wait_event("daemon.started", timeout=30)
    ...
    assert daemon.kill() == -signal.SIGKILL      # or daemon.stop() == 0 (SIGTERM)

Synchronisation is by condition variable on the event stream, never by sleeping.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO


@dataclass
class Daemon:
    """A running daemon and every JSON event it has logged so far (in order)."""

    proc: subprocess.Popen[str]
    stderr_path: Path
    spawned_at: float  # time.monotonic() at spawn
    on_event: Callable[[dict[str, Any]], None] | None = None  # called on the reader thread, in order
    events: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False  # its stdout closed (it exited)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _reader: threading.Thread | None = None

    def _read(self, stdout: TextIO) -> None:
        for line in stdout:
            if line.startswith("{"):
                event = json.loads(line)
                if self.on_event is not None:
                    self.on_event(event)
                with self._cond:
                    self.events.append(event)
                    self._cond.notify_all()
        with self._cond:
            self.ended = True
            self._cond.notify_all()

    def wait_event(
        self, name: str, *, after: int = 0, timeout: float = 30.0, **fields: Any
    ) -> dict[str, Any] | None:
        """The first event called `name` (with these `fields` values) at index `after` or later; None when
        none came within `timeout` seconds or the daemon exited first."""
        found: list[dict[str, Any]] = []

        def wanted(event: dict[str, Any]) -> bool:
            return event.get("event") == name and all(event.get(k) == v for k, v in fields.items())

        def seen() -> bool:
            found[:] = [e for e in self.events[after:] if wanted(e)][:1]
            return bool(found) or self.ended

        with self._cond:
            self._cond.wait_for(seen, timeout=timeout)
        return found[0] if found else None

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def kill(self, timeout: float = 30.0) -> int:
        """SIGKILL, then the exit status (-9 unless it had already exited on its own)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        return self._reap(timeout)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM (a clean shutdown), then the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self._reap(timeout)

    def _reap(self, timeout: float) -> int:
        code = self.proc.wait(timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout=timeout)
        return code


def start_daemon(
    config: Path,
    *,
    stderr: Path,
    extra_args: tuple[str, ...] = (),
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> Daemon:
    """Start `python -m monitor --log-format json run -c CONFIG` with unbuffered output; its stderr goes
    to the file `stderr` (appended, so one file can collect every run of a test). `on_event` sees each
    log event the moment it is read, before any waiter does."""
    with stderr.open("a", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--log-format", "json", "run", "-c", str(config), *extra_args],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    daemon = Daemon(proc=proc, stderr_path=stderr, spawned_at=time.monotonic(), on_event=on_event)
    assert proc.stdout is not None
    daemon._reader = threading.Thread(
        target=daemon._read, args=(proc.stdout,), name="daemon-log", daemon=True
    )
    daemon._reader.start()
    return daemon


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.05) -> None:
    """Re-check `condition` (e.g. a database query) until it holds; AssertionError naming `what` after
    `timeout` seconds. For state that offers nothing to wait on; prefer a Collector or wait_event."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(every)
