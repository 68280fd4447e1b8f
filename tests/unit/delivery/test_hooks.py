"""monitor.delivery.hooks: Apprise is configured by install() only (never on import), once; its log lines
stay out of the application's logs; console:// prints; the email text-part hook answers only in a send."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.delivery import hooks
from monitor.delivery.channel import Channel, DeliveryOutcome
from monitor.render.fitting import render
from tests.helpers.servers import free_port
from tests.unit.render.samples import ALERT  # one sample alert for the rendering and delivery tests

REPO = Path(__file__).resolve().parents[3]
CANARY = "canary7Q2xZ9vK4mW1"


def run_python(script: str) -> subprocess.CompletedProcess[str]:
    """`script` in a fresh interpreter on this checkout, so that nothing imported here affects it."""
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


# --- installed explicitly, once --------------------------------------------------------------------

APPRISE_STATE = (
    "import logging\n"
    "from apprise.plugins.email import base\n"
    "def state():\n"
    "    logger = logging.getLogger('apprise')\n"
    "    return {\n"
    "        'convert_between hooked': getattr(base.convert_between, 'monitor_hook', False),\n"
    "        'make_msgid hooked': getattr(base.make_msgid, 'monitor_hook', False),\n"
    "        'capture handler': any(getattr(h, 'monitor_capture', 0) for h in logger.handlers),\n"
    "        'propagates': logger.propagate,\n"
    "        'console://': 'console' in hooks.known_schemes(),\n"
    "    }\n"
)


def test_importing_delivery_changes_nothing_in_apprise_until_install() -> None:
    """Importing every delivery module leaves Apprise's email module, logger and schemes as Apprise made
    them; install() hooks the email module, owns the logger and registers console://."""
    script = (
        "import sys\n"
        "import monitor.delivery\n"
        "assert 'apprise' not in sys.modules, 'the package imports apprise'\n"
        "import monitor.delivery.channel, monitor.delivery.failures, monitor.delivery.secrets\n"
        "from monitor.delivery import hooks\n"
        f"{APPRISE_STATE}"
        "before = state()\n"
        "hooks.install()\n"
        "after = state()\n"
        "assert not any(v for k, v in before.items() if k != 'propagates'), before\n"
        "assert before['propagates'] and not after['propagates'], (before, after)\n"
        "assert all(v for k, v in after.items() if k != 'propagates'), after\n"
    )
    result = run_python(script)
    assert result.returncode == 0, result.stderr


def test_importing_the_config_does_not_import_apprise() -> None:
    """Reading the configuration's module needs no Apprise (channel URLs are checked through it lazily)."""
    result = run_python("import sys\nimport monitor.config\nassert 'apprise' not in sys.modules\n")
    assert result.returncode == 0, result.stderr


def test_installing_twice_or_after_a_reload_keeps_one_console_scheme_and_one_log_handler() -> None:
    """install() again, also from a reloaded module, registers nothing twice: one handler, one printed alert."""
    script = (
        "import importlib, logging\n"
        "from monitor.delivery import hooks\n"
        "from monitor.render.model import Message\n"
        "hooks.install(); hooks.install()\n"
        "hooks = importlib.reload(hooks)\n"
        "hooks.install()\n"
        "from monitor.delivery.channel import Channel\n"
        "handlers = [h for h in logging.getLogger('apprise').handlers if getattr(h, 'monitor_capture', 0)]\n"
        "assert len(handlers) == 1, handlers\n"
        "msg = Message(subject='S-1', text='body-1', markdown='**body-1**')\n"
        "assert Channel('c', 'console://').send(msg).ok\n"
    )
    result = run_python(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("S-1") == 1 and result.stdout.count("body-1") == 1
    assert "already defined" not in result.stderr


# --- logging ---------------------------------------------------------------------------------------


def test_apprise_log_lines_do_not_reach_application_logs() -> None:
    """Apprise's own records (which contain URLs with tokens) never propagate to root-level handlers."""
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root = logging.getLogger()
    handler, level = Collect(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        channel = Channel("ops", f"json://127.0.0.1:{free_port()}/hook/{CANARY}")
        outcome = channel.send(render(ALERT))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert outcome.ok is False
    leaked = [r for r in seen if r.name.startswith(("apprise", "urllib3")) or CANARY in r.getMessage()]
    assert not leaked, [r.getMessage() for r in leaked]


# --- console:// ------------------------------------------------------------------------------------


def test_console_channel_prints_the_plain_text_alert(capsys: pytest.CaptureFixture[str]) -> None:
    """console:// prints the subject and the plain-text body to stdout and reports success."""
    message = render(ALERT)
    outcome = Channel("terminal", "console://").send(message)
    assert outcome == DeliveryOutcome(ok=True, reason=None, retryable=False)
    out = capsys.readouterr().out
    assert out.startswith(message.subject + "\n")
    assert message.text in out
    assert "**" not in out


# --- email -----------------------------------------------------------------------------------------


def test_the_email_text_part_hook_answers_only_for_the_html_being_sent() -> None:
    """During a send, converting exactly the HTML being sent gives our text part; any other HTML, or any
    conversion outside a send, is Apprise's own derivation."""
    from apprise import NotifyFormat
    from apprise.plugins.email import base as email_base

    hooks.install()
    convert = email_base.convert_between
    assert getattr(convert, "monitor_hook", False)
    derived = convert(NotifyFormat.HTML, NotifyFormat.TEXT, "<p>Ours</p>")
    assert "Ours" in derived and derived != "OUR TEXT PART"
    with hooks.sending(text_part=("<p>Ours</p>", "OUR TEXT PART")):
        assert convert(NotifyFormat.HTML, NotifyFormat.TEXT, "<p>Ours</p>\n") == "OUR TEXT PART"
        assert convert(NotifyFormat.HTML, NotifyFormat.TEXT, "<p>Other</p>") != "OUR TEXT PART"
        assert convert(NotifyFormat.MARKDOWN, NotifyFormat.HTML, "<p>Ours</p>") != "OUR TEXT PART"
    assert convert(NotifyFormat.HTML, NotifyFormat.TEXT, "<p>Ours</p>") == derived


def test_the_message_id_hook_answers_only_inside_a_send() -> None:
    """Inside sending(message_id=...) Apprise's Message-ID is ours; outside, Apprise makes its own."""
    from apprise.plugins.email import base as email_base

    hooks.install()
    with hooks.sending(message_id="<ours@example.org>"):
        assert email_base.make_msgid() == "<ours@example.org>"
    assert email_base.make_msgid() != "<ours@example.org>"
