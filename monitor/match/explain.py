"""Human-readable explanation of one match (`news-monitor match --explain`): why an item was flagged.

Per item: id and title; each matched topic with its level, score and the weighted reasons; the branch of
each query that held; the phase of each topic's story the item reports (and why); the watches that fired; the entities; the genre when the item is commentary (it
does not open an alert on its own, see `monitor.alerts.policy`); and every field with evidence, quoted around
the matched words, which are highlighted (ANSI bold on a terminal, »guillemets« otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.match.results import Evidence, MatchResult
from monitor.match.rules import TopicSpec

CONTEXT = 60  # characters of context kept on each side of a highlighted span
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def highlight(text: str, spans: list[tuple[int, int]], *, color: bool, context: int = CONTEXT) -> str:
    """`text` cut to the neighbourhood of `spans` (joined by …), with the spans themselves marked."""
    open_mark, close_mark = (_BOLD, _RESET) if color else ("»", "«")
    marked = _merge(spans)
    windows = _merge([(max(0, s - context), min(len(text), e + context)) for s, e in marked])
    pieces = []
    for w_start, w_end in windows:
        # widen to word boundaries so the quote does not start or end mid-word
        while w_start > 0 and not text[w_start - 1].isspace():
            w_start -= 1
        while w_end < len(text) and not text[w_end].isspace():
            w_end += 1
        out, cursor = [], w_start
        for s, e in marked:
            if s >= w_start and e <= w_end:
                out.append(text[cursor:s] + open_mark + text[s:e] + close_mark)
                cursor = e
        out.append(text[cursor:w_end])
        piece = " ".join("".join(out).split())
        pieces.append(("…" if w_start > 0 else "") + piece + ("…" if w_end < len(text) else ""))
    return " ".join(pieces)


def _phase_reason(topics: Mapping[str, TopicSpec] | None, topic: str, phase: str) -> str | None:
    spec = topics.get(topic) if topics else None
    return next((p.reason for p in spec.phases if p.name == phase), None) if spec else None


def render(
    item_id: object,
    fields: dict[str, str],
    result: MatchResult,
    *,
    color: bool = False,
    topics: Mapping[str, TopicSpec] | None = None,
) -> str:
    """The explanation of `result` for the item whose field texts are `fields` (title, summary, content).
    With the rule pack's `topics`, a phase line gives the phase's `reason` ("ceasefire agreed: a truce
    agreed, signed..."); the words that made it follow either way."""
    title = " ".join((fields.get("title") or "").split())
    lines = [f"── {item_id}  {title}" if title else f"── {item_id}"]
    if not result.topics and not result.watches and not result.entities:
        lines.append("  no topic, watch or entity matched")
        return "\n".join(lines)
    width = max((len(t) for t in result.topics), default=0)
    for topic in result.topics:
        severity = result.severity.get(topic)
        head = f"  topic    {topic:<{width}}"
        if severity is not None:
            head += f"  {severity.level} (score {severity.score})"
            if severity.because:
                head += ": " + "; ".join(severity.because)
        lines.append(head)
        if topic in result.why:
            lines.append(f"           because {result.why[topic]}")
        phase = result.phases.get(topic)
        if phase is not None:
            reason = _phase_reason(topics, topic, phase)
            lines.append(f"  phase    {topic} {phase}" + (f": {reason}" if reason else ""))
            why = result.why.get(f"phase:{topic}")
            if why:
                lines.append(f"           because {why}")
    for hit in result.watches:
        topics = f"; topics {', '.join(hit.topics)}" if hit.topics else ""
        lines.append(f"  watch    {hit.name}  {hit.severity}{topics}")
        why = result.why.get(f"watch:{hit.name}")
        if why:
            lines.append(f"           because {why}")
    if result.entities:
        lines.append(f"  entities {', '.join(result.entities)}")
    if result.genre is not None:
        lines.append(
            f"  genre    {result.genre.kind} (cue: {result.genre.cue}), does not open an alert on its own"
        )
    by_field: dict[str, list[Evidence]] = {}
    for evidence in result.evidence:
        by_field.setdefault(evidence.field, []).append(evidence)
    for field in ("title", "summary", "content"):
        found = by_field.get(field)
        if found and fields.get(field):
            spans = [(e.start, e.end) for e in found]
            lines.append(f"  {field:<8} {highlight(fields[field], spans, color=color)}")
    return "\n".join(lines)
