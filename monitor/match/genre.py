"""Is an item an event report, or commentary about events (analysis, opinion, a feature, a live page...)?

An immediate alert is for a new development. Outlets publish far more around a development than about it:
analysis, opinion, explainers, features and human-interest pieces, photo galleries, videos, live-page
teasers and briefings. They join the development's story and go to digests, but they should not wake
anyone on their own. :func:`classify` recognises them from three kinds of evidence, strongest first:

1. the outlet's **section path** in the link (``/commentisfree/``, ``/opinion/``, ``/live/``,
   ``/videos/``, ``/gallery/``, ``/news/av/`` ...): outlets file these genres under their own sections;
2. **title cues**: a genre label ("Opinion:", "Analysis:", "Live:", "Watch:", "In pictures"), the shape
   of an explainer ("What we know", "Why ... matters", "How big is ...?", a question headline), a
   briefing ("Your Tuesday briefing", "The week in ..."), a feature or an obituary ("... dies at 71");
3. **summary cues**: only a summary that opens with a genre label ("VIDEO:", "Opinion:") or says it is a
   newsletter or a what-we-know round-up. Summaries are otherwise not used: feeds paste "Live updates"
   links and related headlines into the summaries of ordinary reports.

Precision comes first: an event report misread as commentary is an alert that never comes, so every cue
is one that a news report would not carry; when in doubt a cue is left out. The result names the cue
that decided, so ``match --explain`` can show it and a user can argue with it.

Pure: no I/O. The cue tables below are the whole classifier; README ("Event reports before commentary")
lists them for users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["KINDS", "Genre", "classify"]

KINDS = (
    "analysis",
    "opinion",
    "explainer",
    "feature",
    "interview",
    "review",
    "obituary",
    "gallery",
    "video",
    "audio",
    "live",
    "briefing",
)


@dataclass(frozen=True)
class Genre:
    """What kind of non-event item this is, and the cue that showed it (a path, words of the title)."""

    kind: str  # one of KINDS
    cue: str  # e.g. "link /commentisfree/", "title 'Analysis:'"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "cue": self.cue}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Genre:
        return cls(data["kind"], data["cue"])


# --- link: outlet section paths ------------------------------------------------------------------------

# A whole path segment (not the last one, which is the article's own slug) → kind.
SECTIONS: dict[str, str] = {
    # opinion
    "commentisfree": "opinion",  # The Guardian
    "opinion": "opinion",  # NYT, Fox News, Le Monde, The Hill, ...
    "opinions": "opinion",  # CNN, Al Jazeera
    "comment": "opinion",
    "columnists": "opinion",
    "editorials": "opinion",
    "debate": "opinion",  # Daily Mail
    "perspectives": "opinion",  # CNN
    "think": "opinion",  # NBC News
    # analysis and explainers
    "analysis": "analysis",
    "explainers": "explainer",
    "explained": "explainer",
    "les-decodeurs": "explainer",  # Le Monde
    # features
    "features": "feature",
    "feature": "feature",
    "longform": "feature",  # Al Jazeera
    "long-read": "feature",
    "long-reads": "feature",
    "the-big-picture": "feature",
    "ng-interactive": "feature",  # The Guardian's interactive features
    "interactive": "feature",  # NYT, CNN
    "magazine": "feature",
    "m-le-mag": "feature",  # Le Monde
    "lifeandstyle": "feature",  # The Guardian
    "femail": "feature",  # Daily Mail
    "obituaries": "obituary",
    # pictures, video, audio
    "gallery": "gallery",
    "galleries": "gallery",
    "in-pictures": "gallery",
    "picture": "gallery",  # The Guardian
    "pictures": "gallery",
    "photos": "gallery",
    "photo-essay": "gallery",
    "video": "video",
    "videos": "video",  # CNN
    "av": "video",  # BBC /news/av/
    "program": "video",  # Al Jazeera programmes
    "audio": "audio",
    "podcast": "audio",
    "podcasts": "audio",
    # live pages and briefings
    "live": "live",  # The Guardian, NYT, BBC, Daily Mail
    "live-news": "live",  # CNN
    "live-updates": "live",
    "liveblog": "live",
    "briefing": "briefing",  # NYT
    "newsletters": "briefing",
    "newsletter": "briefing",
}

# (host, segment) → kind, for a section whose name means a genre at this outlet only.
HOST_SECTIONS: dict[tuple[str, str], str] = {
    ("foxnews.com", "media"): "interview",  # write-ups of what a guest said on a Fox show
    ("nytimes.com", "article"): "explainer",  # the NYT's evergreen explainers and trackers
}

# The start of the article's own slug (the last path segment) → kind: BBC files some genres this way.
SLUG_PREFIXES: tuple[tuple[str, str], ...] = (
    ("in-pictures-", "gallery"),
    ("blogs-the-papers-", "briefing"),  # BBC's press review
    ("explainers-", "explainer"),
)


def _from_link(link: str) -> Genre | None:
    if not link:
        return None
    try:
        parts = urlsplit(link.strip())
        path, host = parts.path.lower(), (parts.hostname or "")
    except ValueError:
        return None
    segments = [s for s in path.split("/") if s]
    if not segments:
        return None
    host = host.removeprefix("www.")
    for segment in segments[:-1]:
        kind = SECTIONS.get(segment) or HOST_SECTIONS.get((host, segment))
        if kind is not None:
            return Genre(kind, f"link /{segment}/")
    slug = segments[-1]
    for prefix, kind in SLUG_PREFIXES:
        if slug.startswith(prefix):
            return Genre(kind, f"link /{prefix}...")
    return None


# --- title and summary: words ---------------------------------------------------------------------------


def _cues(*pairs: tuple[str, str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in pairs)


_LABEL = r"\s*[:|]"  # "Opinion:", "Analysis |"
_BRIEFING_WHEN = r"morning|evening|midday|weekend|monday|tuesday|wednesday|thursday|friday|saturday|sunday"

# Title cues, in the order they are tried. A pattern's match (its text as written) becomes the cue.
TITLE_CUES = _cues(
    # labels an outlet puts on the genre
    ("opinion", rf"^(opinion|comment|editorial|letters?|view|op-ed|column){_LABEL}"),
    ("opinion", r"^the \w+ view on\b"),  # "The Guardian view on ..."
    ("opinion", r"\|\s*(letters|editorial|opinion)\s*$"),
    ("analysis", rf"^(news )?analysis{_LABEL}"),
    ("analysis", r"\banalysis:"),
    ("explainer", rf"^(explainer|explained|fact ?check|q ?&a){_LABEL}"),
    ("interview", rf"^(interview|in conversation){_LABEL}"),
    ("review", rf"^review{_LABEL}"),
    ("review", r"\breview\s+[–—-]\s"),  # "<Film> review – a stark war drama"
    ("obituary", rf"^obituary{_LABEL}"),
    ("obituary", r"\bobituary\s*$"),
    ("obituary", r"\bdies at \d{2,3}\b"),
    ("gallery", r"\bin (pictures|photos|images)\b"),
    ("gallery", rf"^(photos?|pictures?|gallery){_LABEL}"),
    ("gallery", r"\b(photos?|pictures?) of the (day|week)\b"),
    ("gallery", r"\bphoto essay\b"),
    ("video", rf"^(video|watch|watch live){_LABEL}"),
    ("video", r"^watch (the|as|how|what|live)\b"),
    ("video", r"[–—-]\s*video\s*$"),
    ("video", r"\(video\)"),
    ("video", r"\bcaught on (camera|video|film|cctv)\b"),
    # tabloid video captions: "Dramatic moment ...", "Moment soldiers ..."
    (
        "video",
        r"^((dramatic|terrifying|shocking|horrifying|incredible|astonishing|chilling|harrowing) )?moment\b",
    ),
    ("video", r"^ros atkins on\b"),  # the BBC's video explainer series
    ("audio", r"\bpodcast\b"),
    ("live", rf"^live{_LABEL}"),
    ("live", r"\blive:"),  # "Russia-Ukraine war live: ..."
    ("live", r"\blive (updates?|blog|coverage)\b"),
    ("live", r"[–—-]\s*live\s*$"),  # "... – live"
    ("live", r"\bas it happened\b"),
    # briefings and round-ups. "Briefing" only as a newsletter's label: at the start ("Tuesday briefing:",
    # "Your Monday briefing", "Ukraine war briefing:") or the end ("... – morning briefing"); an official's
    # briefing ("Pentagon daily briefing: US confirms ...", "said at a Tuesday briefing") is an event report
    ("briefing", rf"^(your |the )?({_BRIEFING_WHEN}) briefing\b"),
    ("briefing", r"^your (daily|weekly) briefing\b"),
    ("briefing", r"^([\w'’.-]+ ){1,3}war briefing:"),
    ("briefing", rf"[:|–—-]\s*(your |the )?({_BRIEFING_WHEN}) briefing\s*$"),
    ("briefing", r"\bwhat to know (today|this week)\b"),
    ("briefing", r"\bthe week in (review|pictures|\w+)\b"),
    ("briefing", r"\bthe year in (review|pictures)\b"),
    ("briefing", r"\bat a glance\b"),
    ("briefing", r"\bnewsletter\b"),
    ("briefing", r"\btop headlines\b"),
    ("briefing", r"^the papers:"),
    ("briefing", r"\bround-?up\b"),
    ("briefing", r"^firstft\b"),
    # explainers by their shape
    ("explainer", r"\bwhat we know\b"),
    ("explainer", r"\bwhat (you need|to know) (to know )?about\b"),
    ("explainer", r"\bwhat you need to know\b"),
    ("explainer", r"\bexplained\s*$"),
    ("explainer", r"\bwhy (it|this|that|\w+) matters\b"),
    ("explainer", r"\bkey questions\b"),
    ("explainer", r"\bwhat next for\b"),
    ("explainer", r"\b(everything|all) you need to know\b"),
    ("explainer", r"\byour (guide|questions)\b"),
    ("explainer", r"\b(a|the|complete) guide to\b"),
    ("explainer", r"\b(complete|visual|quick|simple) guide\b"),
    ("explainer", r"\bin (maps|charts|graphics|numbers|data)\b"),
    ("analysis", r"\btakeaways\b"),
    (
        "explainer",
        r"^(what|who|why|how|where|when|is|are|can|could|will|would|should|does|do|did)\b[^?]*\?\s*$",
    ),
    ("explainer", r"^([^:?]{1,40}:\s+)?(what|why|how)\b"),  # "Donbas: Why Russia ...", "What X may mean"
    # features, human interest, anniversaries
    ("feature", r"^(inside|meet the|a day in the life|life (in|under|on)|letter from|postcard from)\b"),
    (
        "feature",
        r"^the (\w+ )?(woman|women|man|men|people|family|families|children|girl|boy|soldiers?) who\b",
    ),
    ("feature", r"\blong read\b"),
    ("feature", r"\b(a|one|two|three|five|ten|\d+) years? on\b"),
    ("feature", r"\bin (his|her|their) own words\b"),
    # a quiz only as a label ("Quiz:", "| Quiz", "take our quiz"): "Police quiz two men" is news
    ("feature", rf"^quiz{_LABEL}"),
    ("feature", r"[|–—-]\s*quiz\s*$"),
    ("feature", r"\b(take|try) (our|the|this) quiz\b"),
    ("feature", r"\b(news quiz|quiz of the (day|week|year))\b"),
)

# Summary cues: only labels at its start and newsletter/what-we-know phrasings (see the module docstring).
SUMMARY_CUES = _cues(
    ("video", r"^\s*(video|watch)\s*:"),
    ("opinion", r"^\s*(opinion|comment)\s*:"),
    ("analysis", r"^\s*analysis\s*:"),
    ("briefing", r"\bin today'?s newsletter\b"),
    ("briefing", r"\bbrings you .{0,40}\btop headlines\b"),
    ("explainer", r"\bhere'?s what (we|you need to) know\b"),
)


def _from_words(field: str, text: str, cues: tuple[tuple[str, re.Pattern[str]], ...]) -> Genre | None:
    if not text:
        return None
    for kind, pattern in cues:
        found = pattern.search(text)
        if found:
            return Genre(kind, f"{field} '{found.group(0).strip()}'")
    return None


def classify(*, title: str = "", summary: str = "", link: str = "") -> Genre | None:
    """The item's genre when it is not an event report (see the module docstring), else None."""
    return (
        _from_link(link)
        or _from_words("title", (title or "").strip(), TITLE_CUES)
        or _from_words("summary", (summary or "").strip(), SUMMARY_CUES)
    )
