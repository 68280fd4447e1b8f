"""Genre: commentary (opinion, analysis, explainers, features, galleries, videos, live pages, briefings) is
told from event reports by link section, title and summary cues; event reports get None. All titles and
links here are invented."""

from __future__ import annotations

import pytest

from monitor.match.genre import KINDS, Genre, classify

# (title, summary, link, expected kind or None, expected cue or None)
CASES = [
    # link: outlet section paths
    (
        "Truce talks stall",
        "",
        "https://www.theguardian.com/commentisfree/2024/may/02/truce-talks",
        "opinion",
        "link /commentisfree/",
    ),
    (
        "The ceasefire is a mirage",
        "",
        "https://www.example.com/opinion/2024/ceasefire-mirage",
        "opinion",
        "link /opinion/",
    ),
    (
        "Zetaland shelled again",
        "",
        "https://www.cnn.com/videos/world/2024/05/02/zetaland-shelling.cnn",
        "video",
        "link /videos/",
    ),
    (
        "Zetaland shelled again",
        "",
        "https://www.bbc.co.uk/news/av/world-europe-12345678",
        "video",
        "link /av/",
    ),
    (
        "Shelling in Zetaland",
        "",
        "https://www.theguardian.com/world/live/2024/may/02/zetaland-war-latest",
        "live",
        "link /live/",
    ),
    (
        "Shelling in Zetaland",
        "",
        "https://edition.cnn.com/europe/live-news/zetaland-war-05-02-24/index.html",
        "live",
        "link /live-news/",
    ),
    (
        "Shelling in Zetaland",
        "",
        "https://www.theguardian.com/world/gallery/2024/may/02/zetaland-shelling",
        "gallery",
        "link /gallery/",
    ),
    (
        "Zetaland's long war",
        "",
        "https://www.aljazeera.com/features/2024/5/2/zetaland-long-war",
        "feature",
        "link /features/",
    ),
    (
        "Your Thursday briefing",
        "",
        "https://www.nytimes.com/2024/05/02/briefing/zetaland.html",
        "briefing",
        "link /briefing/",
    ),
    (
        "Senator blasts envoy on air",
        "",
        "https://www.foxnews.com/media/senator-blasts-envoy",
        "interview",
        "link /media/",
    ),
    (
        "Shelling in Zetaland",
        "",
        "https://www.bbc.co.uk/news/in-pictures-12345678",
        "gallery",
        "link /in-pictures-...",
    ),
    (
        "Ukrainian front pages",
        "",
        "https://www.bbc.co.uk/news/blogs-the-papers-12345678?at_medium=RSS",
        "briefing",
        "link /blogs-the-papers-...",
    ),
    # the article's own slug is never a section, and a section elsewhere is not this outlet's genre
    ("Live fire drills near border", "", "https://www.example.com/world/live", None, None),
    ("Media watchdog fined", "", "https://www.theguardian.com/media/2024/may/02/watchdog-fined", None, None),
    # title labels and shapes
    ("Opinion: Zetaland's truce will not hold", "", "", "opinion", "title 'Opinion:'"),
    ("The Tribune view on the Zetaland truce: fragile", "", "", "opinion", "title 'The Tribune view on'"),
    ("Analysis: what the truce means for Zetaland", "", "", "analysis", "title 'Analysis:'"),
    ("Zetaland war live: shelling resumes in the north", "", "", "live", "title 'live:'"),
    ("Zetaland ceasefire – as it happened", "", "", "live", "title 'as it happened'"),
    ("In pictures: Zetaland after the shelling", "", "", "gallery", "title 'In pictures'"),
    ("Watch: tanks cross the Zetaland border", "", "", "video", "title 'Watch:'"),
    ("Tanks cross the Zetaland border – video", "", "", "video", "title '– video'"),
    ("Dramatic moment a drone hits a tank near Zetagrad", "", "", "video", "title 'Dramatic moment'"),
    ("Moment troops storm a Zetaland village", "", "", "video", "title 'Moment'"),
    ("Shelling of Zetagrad caught on camera", "", "", "video", "title 'caught on camera'"),
    ("Zetaland's moment of truth as truce talks open", "", "", None, None),
    ("Your Monday briefing: truce in Zetaland", "", "", "briefing", "title 'Your Monday briefing'"),
    ("Tuesday briefing: truce collapses in Zetaland", "", "", "briefing", "title 'Tuesday briefing'"),
    ("Morning briefing: shelling resumes in Zetaland", "", "", "briefing", "title 'Morning briefing'"),
    ("Your daily briefing: the Zetaland truce", "", "", "briefing", "title 'Your daily briefing'"),
    ("Zetaland war briefing: drones hit the capital", "", "", "briefing", "title 'Zetaland war briefing:'"),
    ("Zetaland truce holds – evening briefing", "", "", "briefing", "title '– evening briefing'"),
    ("Quiz: Zetaland's year in ten questions", "", "", "feature", "title 'Quiz:'"),
    ("The Zetaland truce in ten questions | Quiz", "", "", "feature", "title '| Quiz'"),
    ("Zetaland at war: take our quiz", "", "", "feature", "title 'take our quiz'"),
    ("The news quiz: Zetaland, drones and a truce", "", "", "feature", "title 'news quiz'"),
    ("The week in Zetaland", "", "", "briefing", "title 'The week in Zetaland'"),
    ("Zetaland truce: what we know so far", "", "", "explainer", "title 'what we know'"),
    ("Why the Zetaland truce matters", "", "", "explainer", "title 'Why'"),
    (
        "Is the Zetaland truce about to collapse?",
        "",
        "",
        "explainer",
        "title 'Is the Zetaland truce about to collapse?'",
    ),
    ("Zetaland: How a border town became a front line", "", "", "explainer", "title 'Zetaland: How'"),
    ("Inside the bunker where Zetaland's generals plan", "", "", "feature", "title 'Inside'"),
    ("Zetaland's border war, a year on", "", "", "feature", "title 'a year on'"),
    ("Ada Brun, war reporter who covered Zetaland, dies at 88", "", "", "obituary", "title 'dies at 88'"),
    ("Siege of Ostrava review – a harrowing war film", "", "", "review", "title 'review –'"),
    # summary: only labels at its start and newsletter / what-we-know phrasings
    ("Partisans strike behind the lines", "VIDEO: footage of the raid", "", "video", "summary 'VIDEO:'"),
    (
        "EU weighs new sanctions",
        "Also in today's newsletter: shelling in Zetaland",
        "",
        "briefing",
        "summary 'in today's newsletter'",
    ),
    # event reports
    (
        "Truce collapses as artillery shells Zetaland capital",
        "",
        "https://www.example.com/world/2024/05/02/truce-collapses",
        None,
        None,
    ),
    (
        "Zetaland and Ostravia agree ceasefire from midnight",
        "Leaders announced the deal after talks.",
        "",
        None,
        None,
    ),
    ("Army says 12 killed in strike on Zetaland market", "Video shows the aftermath.", "", None, None),
    ("Minister says talks will resume on Friday", "Zetaland war: live updates", "", None, None),
    (
        "President warns of wider war after border clash",
        "",
        "https://www.cnn.com/2024/05/02/europe/border-clash/index.html",
        None,
        None,
    ),
    ("Police round up suspects after blast", "", "", None, None),
    # "quiz" as a verb and an official's briefing are news
    ("Police quiz two men after rocket attack on Zetagrad", "", "", None, None),
    ("Investigators quiz commander over Zetagrad strike", "", "", None, None),
    ("Pentagon daily briefing: US confirms Zetaland offensive", "", "", None, None),
    ("Daily briefing: ministry confirms shelling of Zetagrad", "", "", None, None),
    ("Spokesman tells press briefing that the truce holds", "", "", None, None),
    ("Army says at Tuesday briefing that shelling resumed", "", "", None, None),
    ("Pentagon briefing: US confirms Zetaland offensive", "", "", None, None),
    ("Watchdog says shelling damaged the plant", "", "", None, None),
    ("", "", "", None, None),
    ("Shelling in Zetaland", "", "not a url at all", None, None),
]


@pytest.mark.parametrize(
    ("title", "summary", "link", "kind", "cue"), CASES, ids=[c[0] or "empty" for c in CASES]
)
def test_classify(title: str, summary: str, link: str, kind: str | None, cue: str | None) -> None:
    """Each invented item gets the genre its strongest cue shows, with that cue; event reports get None."""
    genre = classify(title=title, summary=summary, link=link)
    assert genre == (Genre(kind, cue) if kind else None)


def test_every_kind_is_declared() -> None:
    """Every kind the cue tables can return is one of KINDS (what the policy and README name)."""
    from monitor.match.genre import HOST_SECTIONS, SECTIONS, SLUG_PREFIXES, SUMMARY_CUES, TITLE_CUES

    kinds = {*SECTIONS.values(), *HOST_SECTIONS.values(), *(k for _, k in SLUG_PREFIXES)}
    kinds |= {k for k, _ in TITLE_CUES} | {k for k, _ in SUMMARY_CUES}
    assert kinds <= set(KINDS)


def test_link_is_stronger_than_the_title() -> None:
    """A video page with a news-like headline is a video: the section path decides before the title."""
    genre = classify(title="Analysis: shelling resumes", link="https://www.cnn.com/videos/world/x.cnn")
    assert genre == Genre("video", "link /videos/")


def test_genre_json_round_trip() -> None:
    """The JSON form is exactly {kind, cue} and reads back to the same value."""
    genre = Genre("analysis", "title 'Analysis:'")
    assert genre.to_json() == {"kind": "analysis", "cue": "title 'Analysis:'"}
    assert Genre.from_json(genre.to_json()) == genre
