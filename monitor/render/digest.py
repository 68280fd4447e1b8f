"""A digest's message: every story of the digest in one message, grouped and ordered as
`monitor.render.fields.digest_groups` says, the lowest-ranked stories left out when it does not fit."""

from __future__ import annotations

from monitor.render.escaping import as_link
from monitor.render.fields import digest_fields, digest_groups
from monitor.render.fitting import Plan, compose
from monitor.render.model import Digest, Limits, Message
from monitor.render.templates import Templates, templates_for


def render_digest(
    digest: Digest, *, templates: Templates | None = None, limit: Limits | None = None
) -> Message:
    """One message with every story of the digest, grouped by watch; when it does not fit the channel,
    the lowest-ranked stories are left out and counted."""
    total = len(digest.alerts)
    groups = digest_groups(digest)
    plan = Plan(
        prefix="digest_",  # step 0: every story; each later step one fewer, so never longer
        context=lambda form, step: digest_fields(digest, form, None if step == 0 else total - step, groups),
        steps=total + 1,
        shrinking=True,
        links=[as_link(a.link) for a in digest.alerts],
    )
    return compose(plan, templates or templates_for(None), limit or Limits())
