"""Watch phases: each watch's current phase per topic (`watch_phase`), read and written inside an item's
unit of work, and listed for `news-monitor stories`."""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session, col, select

from monitor.alerts.phases import PhaseState
from monitor.core.clock import as_utc
from monitor.db.base import StoreBase
from monitor.db.tables import WatchPhase


def _state(row: WatchPhase) -> PhaseState:
    since, last_seen = as_utc(row.since), as_utc(row.last_seen)
    assert since is not None and last_seen is not None
    return PhaseState(row.topic, row.phase, since, last_seen, row.story_id, row.item)


def load(session: Session, watch: str) -> dict[str, PhaseState]:
    """The watch's current phase per topic. On PostgreSQL the rows stay locked until the transaction ends,
    so two instances cannot both announce the same turn (SQLite serialises writers anyway)."""
    rows = session.exec(select(WatchPhase).where(WatchPhase.watch == watch).with_for_update()).all()
    return {row.topic: _state(row) for row in rows}


def save(session: Session, watch: str, states: Mapping[str, PhaseState]) -> None:
    """Write the watch's changed states (insert or update per topic)."""
    for topic, state in states.items():
        row = session.get(WatchPhase, (watch, topic)) or WatchPhase(watch=watch, topic=topic)
        row.phase, row.since, row.last_seen = state.phase, state.since, state.last_seen
        row.story_id, row.item = state.story, state.item
        session.add(row)
    session.flush()


class PhaseQueries(StoreBase):
    def watch_phases(self) -> dict[str, list[PhaseState]]:
        """Every watch's current phases, by watch name, topics in name order."""
        with self._session() as session:
            rows = session.exec(
                select(WatchPhase).order_by(col(WatchPhase.watch), col(WatchPhase.topic))
            ).all()
        out: dict[str, list[PhaseState]] = {}
        for row in rows:
            out.setdefault(row.watch, []).append(_state(row))
        return out
