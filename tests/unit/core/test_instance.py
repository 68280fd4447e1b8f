"""Process identity for outbox claims, checked against real processes of this host (Linux /proc)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.core import instance
from tests.helpers.daemon import wait_until

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that exits when its stdin closes."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_a_token_names_this_process_and_parses_back() -> None:
    """The token holds host name, PID and start time, parses back to the same instance, and this process
    is never taken for gone."""
    me = instance.current()
    assert me.pid > 0 and me.started.isdigit()
    assert instance.parse(me.token) == me
    assert me.label.endswith(f"pid {me.pid}")
    assert instance.is_gone(me.token) is False


def test_a_live_process_is_not_gone_and_an_exited_one_is(child: subprocess.Popen[bytes]) -> None:
    """A running process of this host is alive; once it has exited and been reaped, it is gone."""
    other = instance.identify(child.pid)
    assert instance.is_gone(other.token) is False
    assert child.stdin is not None
    child.stdin.close()
    child.wait()
    assert instance.is_gone(other.token) is True


def test_a_zombie_is_gone(child: subprocess.Popen[bytes]) -> None:
    """A process that exited but was not yet reaped by its parent still has a /proc entry: it is gone."""
    other = instance.identify(child.pid)
    assert child.stdin is not None
    child.stdin.close()
    wait_until(
        lambda: Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z",
        timeout=10,
        what="the child to become a zombie",
    )
    assert instance.is_gone(other.token) is True


def test_a_reused_pid_does_not_make_a_dead_predecessor_look_alive(child: subprocess.Popen[bytes]) -> None:
    """A claim by an earlier process whose PID now belongs to another (a different start time) is gone."""
    now_running = instance.identify(child.pid)
    predecessor = replace(now_running, started=str(int(now_running.started) - 1))
    assert instance.is_gone(predecessor.token) is True


def test_claims_of_other_hosts_containers_and_unknown_formats_are_never_gone() -> None:
    """Another site (host name, machine id or PID namespace) cannot be checked from here, nor can a token
    that does not parse: both are left to their lease."""
    me = instance.current()
    dead_pid = _dead_pid()
    elsewhere = replace(me, pid=dead_pid, site="000000000000")
    assert instance.is_gone(elsewhere.token) is False
    assert instance.is_gone(replace(me, pid=dead_pid).token) is True  # the same PID here: gone
    assert instance.is_gone("written by hand") is False
    assert instance.parse("a/b/c") is None


def test_a_claim_from_before_the_last_boot_is_gone_only_when_the_boot_can_be_told() -> None:
    """With a known boot id (machine id present), a claim from another boot of this host is gone even if
    a process with its PID and start time runs now; with an unknown boot it falls back to the PID check."""
    me = replace(instance.current(), boot="aaaaaaaaaaaa")
    earlier = replace(me, boot="bbbbbbbbbbbb")
    assert instance.is_gone(earlier.token, me) is True
    unknown = replace(me, boot="-")
    assert instance.is_gone(replace(earlier, boot="-").token, unknown) is False  # it is this very process


def _dead_pid() -> int:
    """The PID of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
