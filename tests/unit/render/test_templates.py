"""monitor.render.templates: a channel's override templates replace only their part, are escaped like ours,
are checked at load with file:line errors (also through check-config), and fall back to the built-in
template when broken after the check."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from monitor.config.schema import ChannelTemplates
from monitor.render.digest import render_digest
from monitor.render.fitting import render
from monitor.render.model import PARTS
from monitor.render.templates import check_templates, templates_for
from tests.unit.render.samples import ALERT, DIGEST, HOSTILE_SUMMARY


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_override_replaces_only_its_part_and_is_escaped_like_ours(tmp_path: Path) -> None:
    """A channel's text and html overrides are used; the other parts stay built-in; feed text in them is
    neutralised (text) and escaped (HTML) without the template doing anything."""
    text = write(tmp_path / "t.j2", "ALERT {{ severity|upper }}: {{ headline }} <{{ link }}>\n")
    html = write(tmp_path / "h.j2", "<p>{{ headline }}</p><div>{{ summary }}</div>\n")
    templates = templates_for({"text": text, "html": html})
    alert = replace(ALERT, headline="@everyone <script>x</script>Shelling", summary=HOSTILE_SUMMARY)
    message = render(alert, templates=templates)
    assert message.text == f"ALERT HIGH: @\u200beveryone Shelling <{ALERT.link}>\n"
    assert message.html.startswith("<p>@everyone Shelling</p><div>Troops <b>advanced</b>")
    assert "<script" not in message.html and "onerror" not in message.html
    assert message.subject == render(alert).subject and message.markdown == render(alert).markdown
    assert message.problem is None


def test_digest_override(tmp_path: Path) -> None:
    """A digest_text override sees the digest fields (groups, stories, counts)."""
    text = write(
        tmp_path / "d.j2",
        "{% for g in groups %}{{ g.watch }}:{% for s in g.stories %} {{ s.severity }}/{{ s.source_count }}"
        "{% endfor %};{% endfor %} {{ counts_line }}\n",
    )
    message = render_digest(DIGEST, templates=templates_for({"digest_text": text}))
    assert message.text == (
        "karabakh: critical/1 critical/1 high/3;ukraine: critical/1 high/1;sudan: medium/1 low/1;"
        " 3 critical, 2 high, 1 medium, 1 low\n"
    )


def test_override_problems_name_the_template_file_and_line(tmp_path: Path) -> None:
    """Missing files, syntax errors, misspelt fields (with a suggestion) and sandbox violations are each
    reported with the template file and line."""
    syntax = write(tmp_path / "syntax.j2", "line one\n{% for s in sources %}\n{{ s.outlet }\n")
    typo = write(tmp_path / "typo.j2", "{{ headline }}\n{% if update %}\n{{ hedline }}\n{% endif %}\n")
    unsafe = write(tmp_path / "unsafe.j2", "{{ headline }}\n{{ headline.__class__.__mro__ }}\n")
    problems = {
        p.part: str(p)
        for p in check_templates(
            {"subject": tmp_path / "missing.j2", "text": syntax, "markdown": typo, "html": unsafe}
        )
    }
    assert problems["subject"] == f"{tmp_path / 'missing.j2'}: no such template file"
    assert problems["text"].startswith(f"{syntax}:3: Jinja syntax error")
    assert problems["markdown"].startswith(f"{typo}:3: 'hedline' is undefined; did you mean 'headline'?")
    assert problems["html"].startswith(f"{unsafe}:2: SecurityError")
    assert check_templates({"text": write(tmp_path / "ok.j2", "{{ headline }}\n")}) == []


def test_a_template_broken_after_the_check_falls_back_to_the_built_in_one(tmp_path: Path) -> None:
    """A template edited into an error after check-config does not stop delivery: the built-in template is
    used and the message says why."""
    path = write(tmp_path / "t.j2", "{{ headline }}\n")
    assert render(ALERT, templates=templates_for({"text": path})).text == ALERT.headline + "\n"
    write(path, "{{ headline }} {{ nope }}\n")
    message = render(ALERT, templates=templates_for({"text": path}))
    assert message.text == render(ALERT).text
    assert message.problem and "'nope' is undefined" in message.problem and str(path) in message.problem
    write(path, "{% if %}\n")
    message = render(ALERT, templates=templates_for({"text": path}))
    assert message.text == render(ALERT).text and message.problem and f"{path}:1" in message.problem


def test_the_config_keys_are_the_template_parts() -> None:
    """Every template part can be overridden from the config, and nothing else."""
    assert set(ChannelTemplates.model_fields) == set(PARTS)
