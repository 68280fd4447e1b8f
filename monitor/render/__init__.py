"""Messages from alerts and digests, through Jinja2 templates, escaped for each form and fitted to each
channel's size limits.

    model      Alert, Digest, Message, Limits and the template part names (no rendering library)
    escaping   feed text made safe per form: mentions, Markdown, links; HTML sanitised with nh3
    fields     the template fields of an alert and a digest (README, Templates), digest order
    templates  the Jinja2 sandbox, built-in templates and a channel's overrides, checked at load
    fitting    rendering again with less until a message fits; `render`, an alert's message
    digest     `render_digest`, a digest's message
    notices    operator notices: dead letters and the test message

The package imports nothing itself, so the config layer can read `model` without Jinja2 or nh3.
"""
