"""Reports of one event told in several words, and of other events, shared by the story tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.stories.clusterer import StoryDoc

T0 = datetime(2020, 9, 27, 10, 0, tzinfo=UTC)
SHELLING = (
    "Azerbaijani artillery pounds Stepanakert as Karabakh fighting flares",
    "Shells fell on residential districts of Stepanakert on Sunday, officials in Nagorno-Karabakh said.",
)
RETOLD = (
    "Karabakh capital Stepanakert hit by Azerbaijani shelling",
    "Residents of Stepanakert sheltered in basements after Azerbaijani artillery struck the city.",
)
DRONE = (
    "Drone strike destroys power station near Stepanakert",
    "An Azerbaijani drone hit a power station outside Stepanakert, cutting electricity, officials said.",
)
BUDGET = (
    "Parliament passes budget after long night session",
    "Lawmakers approved spending plans for next year.",
)


def doc(id: str, text: tuple[str, str], outlet: str, hours: float, link: str | None = None) -> StoryDoc:
    return StoryDoc(id, text[0], text[1], outlet, link, T0 + timedelta(hours=hours))


TRUCE = [
    (
        "Karabakh truce agreed after talks in Moscow",
        "Armenia and Azerbaijan agreed a humanitarian ceasefire after ten hours of talks hosted by Russia.",
    ),
    (
        "Armenia and Azerbaijan accept humanitarian ceasefire",
        "The ceasefire, brokered in Moscow, allows prisoners and bodies to be exchanged, the Red Cross said.",
    ),
    (
        "Red Cross to oversee prisoner exchange under Karabakh ceasefire",
        "Prisoners and bodies are to be exchanged under the truce that was agreed in Moscow.",
    ),
]
EXCHANGE = (
    "Karabakh ceasefire holds on its first day",
    "Armenian officials said the humanitarian truce agreed in Moscow was mostly respected, with exchanges of "
    "bodies planned.",
)
