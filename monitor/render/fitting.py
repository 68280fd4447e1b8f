"""A message that fits its channel: the subject and three bodies rendered again with less until they fit
the channel's `Limits`, and `render`, an alert's message.

Limits
    `Limits` (from the channel's Apprise plugin) bound the subject and each body. A message that does not
    fit is rendered again with the least important parts dropped first — other sources, then the
    summary, then evidence and entities, then a shorter headline (`CUTS`) — and the template is told what
    was dropped (``*_omitted`` fields). If even the barest rendering is too long, an alert becomes its
    headline (shortened) and its link; the link is never cut: kept whole, or left out whole when it
    cannot fit at all. A subject that the service puts into the body takes at most a third of it.
    A digest that does not fit keeps its highest-ranked stories: the number kept is searched for
    (O(log n) renders, so a weekly digest of thousands of stories renders in well under a second).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from monitor.feeds.text import html_to_text as plain
from monitor.render.escaping import Link, as_link, md_escape, neutralise
from monitor.render.fields import FULL, Cut, alert_fields, shorten
from monitor.render.model import Alert, Limits, Message
from monitor.render.templates import Templates, templates_for

CUTS = (  # an alert's size steps, each showing less
    FULL,
    Cut(sources=3),
    Cut(sources=0),
    Cut(sources=0, summary=200),
    Cut(sources=0, summary=0),
    Cut(sources=0, summary=0, evidence=1),
    Cut(sources=0, summary=0, evidence=0),
    Cut(sources=0, summary=0, evidence=0, entities=False),
    Cut(sources=0, summary=0, evidence=0, entities=False, headline=80),
)


def _hard_cut(body: str, limit: int, protected: Sequence[str]) -> str:
    """`body` cut to `limit` characters (an ellipsis included), never inside a protected string: the cut
    moves to before it."""
    if len(body) <= limit:
        return body
    if limit <= 1:
        return body[: max(limit, 0)]
    cut = limit - 1
    for needle in protected:
        if not needle:
            continue
        start = body.find(needle)
        while start != -1:
            if start < cut < start + len(needle):
                cut = start
            start = body.find(needle, start + 1)
    return body[:cut].rstrip() + "…"


def _subject(
    templates: Templates, part: str, context: dict[str, Any], limit: Limits
) -> tuple[str, str | None]:
    """The one-line subject, within the title limit; a subject that goes into the body takes at most a
    third of the body limit, so the headline link still has room."""
    raw, problem = templates.run(part, context)
    subject = " ".join(raw.split())
    if limit.title and not limit.title_in_body and len(subject) > limit.title:
        subject = shorten(subject, limit.title)
    if limit.title_in_body and limit.body and len(subject) > limit.body // 3:
        subject = shorten(subject, limit.body // 3)
    return subject, problem


def _budget(limit: Limits, subject: str, form: str) -> int | None:
    if not limit.body:
        return None
    if limit.title_in_body:  # Apprise prepends the title: text "title\r\n", Markdown "# title\n",
        overhead = {"text": 2, "markdown": 3, "html": 16}[form]  # HTML "<b>title</b><br />\r\n"
        return limit.body - len(subject) - overhead
    return limit.body


def _fullest(
    render_form: Callable[[int], str], steps: int, budget: int | None, *, shrinking: bool = False
) -> tuple[str, bool]:
    """(the rendering of the first step that fits the budget, True), else (the last step's, False).
    Step 0 shows everything and each later step less. A few steps are tried in turn; with `shrinking`
    (many steps, each one story fewer, so never longer) the step is searched for: galloping from the
    last step, then bisecting, so a digest of n stories takes O(log n) renders instead of n."""
    body = render_form(0)
    if budget is None or len(body) <= budget:
        return body, True
    if not shrinking:
        for step in range(1, steps):
            body = render_form(step)
            if len(body) <= budget:
                return body, True
        return body, False
    bodies = {0: body}

    def fits(step: int) -> bool:
        if step not in bodies:
            bodies[step] = render_form(step)
        return len(bodies[step]) <= budget

    good, bad, gap = steps - 1, 0, 1  # invariant: `bad` does not fit; `good` fits (once checked)
    if not fits(good):
        return bodies[good], False
    while good - gap > bad:  # the fewest stories first: a limit usually fits few of many
        if not fits(good - gap):
            bad = good - gap
            break
        good, gap = good - gap, gap * 2
    while good - bad > 1:
        middle = (good + bad) // 2
        if fits(middle):
            good = middle
        else:
            bad = middle
    return bodies[good], True


def _headline_and_link(headline: str, link: Link | None, form: str, budget: int) -> str:
    """The smallest alert body: its headline (shortened) and its link (whole, if it fits at all)."""
    shown = md_escape(headline) if form == "markdown" else neutralise(headline)
    if link is None:
        return _hard_cut(shown, budget, [])
    written = f"<{link.shown()}>" if form == "markdown" else link.shown()
    room = budget - len(written) - 1
    if room < 0:
        return _hard_cut(shown, budget, [])
    if room < 2:
        return written
    cut = _hard_cut(shown, room, [])
    if form == "markdown" and cut.endswith("\\…"):  # a cut escape must not leave its backslash
        cut = cut[:-2] + "…"
    return f"{cut}\n{written}"


def _protected_links(link: Link | None, form: str) -> list[str]:
    if not link:
        return []
    if form == "markdown":
        return [f"<{link.shown()}>"]
    if form == "html":
        return []  # an HTML body is never cut by characters (see `compose`)
    return [link.shown()]


@dataclass(frozen=True)
class Plan:
    """What an alert and a digest message differ in: their templates, their fields at each step (step 0
    shows everything, each later step less), how to search the steps, and what to do when none fits."""

    prefix: str  # "" for an alert's templates, "digest_" for a digest's
    context: Callable[[str, int], dict[str, Any]]  # (form, step) -> template fields
    steps: int
    shrinking: bool  # see `_fullest`
    links: list[Link | None]  # never cut inside
    last_resort: Callable[[str, int], str] | None = None  # (form, budget) -> a body when no step fits


def compose(plan: Plan, templates: Templates, limit: Limits) -> Message:
    """The subject and the three bodies, each the fullest step that fits the channel's limits; a text or
    Markdown body that cannot fit is the plan's last resort or the last step cut, never inside a link;
    HTML is never cut by characters (email, its only user, has no practical limit)."""
    problems: list[str] = list(templates.broken)
    subject, problem = _subject(templates, f"{plan.prefix}subject", plan.context("text", 0), limit)
    problems += [problem] if problem else []
    bodies: dict[str, str] = {}
    for form in ("text", "markdown", "html"):
        budget = _budget(limit, subject, form)

        def one(step: int, form: str = form) -> str:
            text, problem = templates.run(f"{plan.prefix}{form}", plan.context(form, step))
            if problem and problem not in problems:
                problems.append(problem)
            return text

        body, fits = _fullest(one, plan.steps, budget, shrinking=plan.shrinking)
        if not fits and budget is not None and form != "html":
            if plan.last_resort is not None:
                body = plan.last_resort(form, max(budget, 0))
            else:
                protected = [p for link in plan.links for p in _protected_links(link, form)]
                body = _hard_cut(body.rstrip("\n"), max(budget, 0), protected)
        bodies[form] = body
    return Message(
        subject=subject,
        text=bodies["text"],
        markdown=bodies["markdown"],
        html=bodies["html"],
        problem="; ".join(problems) or None,
    )


def render(alert: Alert, *, templates: Templates | None = None, limit: Limits | None = None) -> Message:
    """The subject and the text, Markdown and HTML bodies for one alert, as much of it as fits `limit`
    (see the module docstring)."""
    link = as_link(alert.link)
    headline = plain(alert.headline) or "(no headline)"
    plan = Plan(
        prefix="",
        context=lambda form, step: alert_fields(alert, form, CUTS[step]),
        steps=len(CUTS),
        shrinking=False,
        links=[link],
        last_resort=lambda form, budget: _headline_and_link(headline, link, form, budget),
    )
    message = compose(plan, templates or templates_for(None), limit or Limits())
    return replace(
        message,
        message_id=alert.message_id,
        in_reply_to=alert.in_reply_to,
        references=tuple(alert.references),
    )
