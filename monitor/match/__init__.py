"""The matching core: pure functions from rules and item text to topics, watches and evidence."""

from monitor.match.engine import Evidence, Matcher, MatchResult, WatchHit, check_rules

__all__ = ["Evidence", "MatchResult", "Matcher", "WatchHit", "check_rules"]
