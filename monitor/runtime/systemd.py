"""The systemd notify protocol (Type=notify): readiness, reloading, stopping and watchdog beats."""

from __future__ import annotations

import os
import socket


def sd_notify(state: str) -> None:
    """Tell systemd about readiness and liveness when it is listening (Type=notify); else a no-op."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(address)
            sock.sendall(state.encode())
        except OSError:
            pass  # systemd went away (stop, reload of the manager): notifying is best effort
