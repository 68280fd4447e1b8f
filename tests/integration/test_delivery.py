"""`deliver_pending` on a real database with scripted channels: a hanging channel delays no other, and a
failing operator channel is tried once per dead letter, never in a loop."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.db.engine import make_engine, migrate
from monitor.db.records import NewItem
from monitor.db.store import Store
from monitor.db.unit import ItemUnit
from monitor.delivery.channel import DeliveryOutcome
from monitor.feeds.fetcher import Fetcher
from monitor.match import Matcher, MatchResult
from monitor.pipeline import Deps
from monitor.pipeline.deliver import deliver_pending
from monitor.pipeline.store import store_items
from monitor.render.model import Limits, Message
from monitor.runtime import logs as logging_setup
from monitor.stories.clusterer import StoryClusterer
from tests.helpers.clock import FakeClock

NOW = datetime(2020, 9, 27, 12, 0, tzinfo=UTC)
OK = DeliveryOutcome(ok=True, reason=None, retryable=False)


class ScriptedChannel:
    """Records every message and answers with what `answer` returns for it (may block)."""

    limits = Limits()  # no size limits, like most real channels

    def __init__(self, answer: Callable[[Message], DeliveryOutcome] = lambda _m: OK) -> None:
        self.answer = answer
        self.messages: list[Message] = []

    def send(self, message: Message) -> DeliveryOutcome:
        self.messages.append(message)
        return self.answer(message)


def make_deps(tmp_path: Path, database_url: str, channels: dict[str, ScriptedChannel], delivery: str) -> Deps:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "w.yaml").write_text(
        "entities:\n  zeta: {aliases: [Zetaland]}\ntopics:\n  escalation: {query: shelling}\n"
        f"watches:\n  - {{name: w, query: '@zeta', topics: [escalation], notify: [{', '.join(channels)}]}}\n",
        encoding="utf-8",
    )
    names = "".join(f"  {name}: {{url: 'json://127.0.0.1:9/{name}'}}\n" for name in channels)
    (tmp_path / "monitor.yaml").write_text(
        f"database: '{database_url}'\nchannels:\n{names}{delivery}rules: [rules/*.yaml]\n", encoding="utf-8"
    )
    config = load_config(tmp_path / "monitor.yaml")
    engine = make_engine(database_url)
    migrate(engine)
    store = Store(engine)
    store.sync_feeds([("wire", "https://example.org/rss")])
    return Deps(
        config=config,
        store=store,
        fetcher=Fetcher(timeout=1, max_bytes=1000),
        matcher=Matcher.compile(config.rules),
        channels=channels,  # type: ignore[arg-type]
        clock=FakeClock(NOW),
        log=logging_setup.get_logger("test"),
        clusterer=StoryClusterer(config.story_params),
        rng=random.Random(5),
    )


def queue_alerts(store: Store, count: int, channels: list[str]) -> None:
    for n in range(1, count + 1):
        with store.item_unit(NOW) as unit:
            item_id = unit.add_item("wire", NewItem(f"k{n}", None, None, f"Headline {n}", "", NOW, None))
            assert item_id is not None
            unit.join_story(item_id, item_id, outlet="wire", copy_of=None, title=f"Headline {n}", topics=[])
            unit.queue(
                watch="w",
                story_id=item_id,
                item_id=item_id,
                channels=channels,
                seq=0,
                kind="first",
                reasons=[],
            )


@pytest.fixture
def cleanup() -> Iterator[list[Deps]]:
    made: list[Deps] = []
    yield made
    for deps in made:
        deps.fetcher.close()
        deps.store.engine.dispose()


def test_a_hanging_channel_delays_no_other_channel(
    tmp_path: Path, database_url: str, cleanup: list[Deps]
) -> None:
    """While one channel's send hangs (until the other channel has delivered all its rows), the other
    channel delivers everything in decision order; the hung channel keeps its later rows for the next round."""
    fast_done = threading.Event()
    waited: list[bool] = []

    def hang(_message: Message) -> DeliveryOutcome:
        waited.append(fast_done.wait(timeout=10))
        return DeliveryOutcome(ok=False, reason="no answer within 30s (timed out)", retryable=True)

    def deliver(message: Message) -> DeliveryOutcome:
        if len(fast.messages) == 3:
            fast_done.set()
        return OK

    slow, fast = ScriptedChannel(hang), ScriptedChannel(deliver)
    deps = make_deps(tmp_path, database_url, {"slow": slow, "fast": fast}, "")
    cleanup.append(deps)
    queue_alerts(deps.store, 3, ["slow", "fast"])

    summary = deliver_pending(deps)
    assert waited == [True]  # the fast channel finished while the slow one was still hanging
    assert [m.subject.rsplit(" ", 1)[-1] for m in fast.messages] == ["1", "2", "3"]
    assert (summary.sent, summary.retrying, summary.deferred, summary.channels_down) == (3, 1, 2, {"slow"})
    assert deps.store.delivery_counts() == {"sent": 3, "pending": 3}


def test_a_failing_operator_channel_is_tried_once_per_dead_letter(
    tmp_path: Path, database_url: str, cleanup: list[Deps]
) -> None:
    """Permanent failures dead-letter three rows; the operator channel, itself failing, gets at most one
    attempt per round and exactly one per dead row overall, so nothing loops."""
    bad = ScriptedChannel(lambda _m: DeliveryOutcome(ok=False, reason="HTTP error=404", retryable=False))
    operator = ScriptedChannel(lambda _m: DeliveryOutcome(ok=False, reason="HTTP error=503", retryable=True))
    deps = make_deps(
        tmp_path, database_url, {"bad": bad, "ops": operator}, "delivery: {operator_channel: ops}\n"
    )
    cleanup.append(deps)
    queue_alerts(deps.store, 3, ["bad"])

    rounds = [deliver_pending(deps) for _ in range(5)]
    assert [r.dead for r in rounds] == [3, 0, 0, 0, 0]
    assert len(bad.messages) == 3
    assert len(operator.messages) == 3
    assert all("Channel:  bad" in m.text and "404" in m.text for m in operator.messages)
    assert deps.store.dead_unnotified() == []


def test_a_crash_while_deciding_leaves_no_phantom_in_the_story_index(
    tmp_path: Path, database_url: str, cleanup: list[Deps], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When an item's transaction fails after clustering, the index is rebuilt from the database: the
    item is not stored, not indexed, and is stored with its own story on the next attempt."""
    deps = make_deps(tmp_path, database_url, {"a": ScriptedChannel()}, "")
    cleanup.append(deps)
    new = NewItem("k1", "g1", None, "Shelling in Zetaland", "", NOW, MatchResult(["escalation"], [], []))

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("crash while deciding alerts")

    with monkeypatch.context() as patched:
        patched.setattr(ItemUnit, "watch_states", crash)  # the first step after the story join
        with pytest.raises(RuntimeError):
            store_items(deps, "wire", [new])
    assert len(deps.clusterer) == 0 and deps.store.known_keys("wire", ["k1"]) == set()
    stored = store_items(deps, "wire", [new])
    assert (stored.added, stored.queued, stored.deferred) == (1, 0, 0)
    assert len(deps.clusterer) == 1
