"""Which process this is, and whether the process named in an outbox claim still runs.

A claim names the process that holds it, so the next start on the same host can give back at once the
rows a crashed predecessor was sending, instead of leaving its channels silent until the lease ends. A PID
alone cannot tell: after a restart, or a reboot, the same PID may belong to another process. The token
therefore also holds the process start time (Linux: /proc/<pid>/stat, clock ticks after boot) and the
kernel's boot id. Whatever cannot be checked from here (another host, another PID namespace such as
another container, no /proc) counts as alive: its claims are left to their lease.
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
MACHINE_ID = Path("/etc/machine-id")  # tells a reboot of this host from another host of the same name
_UNKNOWN = "-"


@dataclass(frozen=True)
class Instance:
    """One running process of news-monitor, as written into `delivery.claimed_by`."""

    hostname: str  # for people reading the outbox; never trusted alone
    pid: int
    started: str  # start time in clock ticks after boot ("-": unknown, e.g. no /proc)
    site: str  # hostname + machine id + PID namespace, hashed: where `pid` and `started` can be checked
    boot: str  # kernel boot id, hashed ("-": unknown, or no machine id to tell a reboot from another host)

    @property
    def token(self) -> str:
        return f"{self.hostname}/{self.pid}/{self.started}/{self.site}/{self.boot}"

    @property
    def label(self) -> str:
        return f"{self.hostname} pid {self.pid}"


def parse(token: str) -> Instance | None:
    """The instance a token names; None when it is not one (a row written by hand, a future format)."""
    parts = token.rsplit("/", 4)
    if len(parts) != 5 or not parts[1].isdigit():
        return None
    hostname, pid, started, site, boot = parts
    return Instance(hostname, int(pid), started, site, boot)


def identify(pid: int | None = None) -> Instance:
    """This process, or the process `pid` of this host (PID namespace)."""
    pid = os.getpid() if pid is None else pid
    hostname = socket.gethostname()[:100].replace("/", "_") or "localhost"
    machine = _read(MACHINE_ID)
    boot = _read(PROC / "sys/kernel/random/boot_id")
    site = _digest(f"{hostname}\0{machine}\0{_namespace()}")
    started = _stat(pid)
    return Instance(
        hostname=hostname,
        pid=pid,
        started=started[1] if started else _UNKNOWN,
        site=site,
        boot=_digest(boot) if boot and machine else _UNKNOWN,
    )


_current: dict[int, Instance] = {}


def current() -> Instance:
    """This process; computed once per PID (a forked child is a process of its own)."""
    pid = os.getpid()
    if pid not in _current:
        _current[pid] = identify()
    return _current[pid]


def is_gone(token: str, me: Instance | None = None) -> bool:
    """True only when the process that wrote `token` certainly runs no more: it ran on this host, and
    either the host has rebooted since, or no process has its PID, or the process with its PID is a zombie
    or started at another time (the PID was reused). False for this process, for every other host, and
    whenever it cannot be told."""
    me = me or current()
    other = parse(token)
    if other is None or other.site != me.site:
        return False
    if _UNKNOWN not in (other.boot, me.boot) and other.boot != me.boot:
        return True  # it ran before this host last booted
    if (other.pid, other.started) == (me.pid, me.started):
        return False
    if other.started == _UNKNOWN or me.started == _UNKNOWN:
        return not _exists(other.pid)  # no start times: a PID in use may have been reused; say alive
    stat = _stat(other.pid)
    if stat is None:
        return True
    state, started = stat
    return state in ("Z", "X", "x") or started != other.started


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc/<pid>/stat; None when there is no such process."""
    text = _read(PROC / str(pid) / "stat")
    if not text or ")" not in text:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the command name, in parentheses, may hold spaces
    return (fields[0], fields[19]) if len(fields) > 19 else None


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # e.g. another user's process: it exists
    return True


def _namespace() -> str:
    try:
        return os.readlink(PROC / "self/ns/pid")
    except OSError:
        return ""


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]
