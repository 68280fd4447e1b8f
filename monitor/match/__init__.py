"""The matching core: pure functions from rules and item text to topics, watches and evidence."""

from monitor.match.engine import Matcher, check_rules
from monitor.match.genre import Genre
from monitor.match.results import Evidence, MatchResult, TopicSeverity, WatchHit

__all__ = ["Evidence", "Genre", "MatchResult", "Matcher", "TopicSeverity", "WatchHit", "check_rules"]
