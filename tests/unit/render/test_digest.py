"""monitor.render.digest: a digest over a channel's limits keeps its highest-ranked stories, found in
logarithmically many renders, with every link whole."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from monitor.render.digest import render_digest
from monitor.render.fields import digest_fields
from monitor.render.model import Limits
from monitor.render.templates import Templates
from tests.unit.render.samples import DIGEST, story


def test_digest_cut_drops_lowest_ranked_stories_and_keeps_links_whole() -> None:
    """A digest over the channel limit leaves out the lowest-ranked stories, says how many, and every link
    it shows is whole."""
    limit = Limits(body=700, title=250)
    message = render_digest(DIGEST, limit=limit)
    assert len(message.text) <= 700 and len(message.markdown) <= 700
    assert "Border post overrun" in message.text and "Aid convoy delayed" not in message.text
    omitted = re.search(r"and (\d+) more stor", message.text)
    assert omitted is not None
    shown = sum(1 for alert in DIGEST.alerts if alert.headline in message.text)
    assert shown + int(omitted.group(1)) == 7
    for url in re.findall(r"https://news\.example/\S+", message.text):
        assert url.rstrip(">") in {alert.link for alert in DIGEST.alerts}


class CountingTemplates(Templates):
    """The built-in templates, counting renders and refusing more than `cap` (so a slow search fails fast)."""

    def __init__(self, cap: int) -> None:
        super().__init__(None)
        self.cap, self.calls = cap, 0

    def run(self, part: str, context: Mapping[str, Any]) -> tuple[str, str | None]:
        self.calls += 1
        assert self.calls <= self.cap, f"more than {self.cap} template renders"
        return super().run(part, context)


def test_a_huge_digest_is_fitted_in_logarithmically_many_renders_and_keeps_the_largest_prefix() -> None:
    """A 2,000-story digest at a 1,000-character limit takes O(log n) template renders per form (not one
    per story) and still shows the most stories that fit: one more would not fit."""
    many = [
        story(f"w{i % 4}", ("low", "medium", "high")[i % 3], f"Headline {i} about shelling", i)
        for i in range(2000)
    ]
    digest = replace(DIGEST, alerts=many)
    cap = 1 + 3 * (2 + 2 * math.ceil(math.log2(len(many) + 1)))  # subject + 3 forms of a galloping search
    templates = CountingTemplates(cap)
    limit = Limits(body=1000, title=250)
    message = render_digest(digest, templates=templates, limit=limit)
    for form in ("text", "markdown", "html"):
        body = getattr(message, form)
        assert len(body) <= 1000, form
        shown = len(re.findall(r"https://news\.example/headline-\d+", body))
        assert 0 < shown < len(many), form
        assert re.search(rf"and {len(many) - shown} more stories", body), form
        one_more, _ = Templates(None).run(f"digest_{form}", digest_fields(digest, form, shown + 1))
        assert len(one_more) > 1000, form
