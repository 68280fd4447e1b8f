"""Rule files (`rules: [rules/*.yaml]`) merged into one rule pack, remembering where each name was written
so that later checks can point at the right file and line."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.config.located import Located, read_yaml, validate
from monitor.match.rules import EntitySpec, RuleFile, RulePack, TopicSpec, WatchSpec


@dataclass(frozen=True)
class Source:
    """Where a rule (entity, topic or watch) was written."""

    located: Located
    path: tuple[Any, ...]

    def where(self) -> str:
        return self.located.where(self.path)


def load_rules(
    config_path: Path, patterns: list[str], located: Located, problems: list[str]
) -> tuple[RulePack, list[Path], dict[tuple[str, str], Source]]:
    """Merge every rule file; remember where each entity, topic and watch was written."""
    entities: dict[str, EntitySpec] = {}
    topics: dict[str, TopicSpec] = {}
    watches: list[WatchSpec] = []
    sources: dict[tuple[str, str], Source] = {}
    files: list[Path] = []
    for index, pattern in enumerate(patterns):
        matched = sorted(Path(p) for p in glob.glob(str(config_path.parent / pattern)))
        if not matched:
            problems.append(
                f"{located.where(('rules', index))}: rules[{index}]: '{pattern}' matches no file "
                f"(relative to {config_path.parent}/)"
            )
        files.extend(p for p in matched if p not in files)
    for file in files:
        raw, where = read_yaml(file, problems)
        rule_file: RuleFile | None = validate(RuleFile, raw, where, problems)
        if rule_file is None:
            continue
        for kind, items in (("entities", rule_file.entities), ("topics", rule_file.topics)):
            target: dict[str, Any] = entities if kind == "entities" else topics
            for name, spec in items.items():
                if (kind, name) in sources:
                    problems.append(
                        f"{where.where((kind, name))}: {kind}.{name}: already defined at {sources[(kind, name)].where()}"
                    )
                    continue
                target[name] = spec
                sources[(kind, name)] = Source(where, (kind, name))
        for index, watch in enumerate(rule_file.watches):
            if ("watches", watch.name) in sources:
                problems.append(
                    f"{where.where(('watches', index, 'name'))}: watches[{index}].name: '{watch.name}' already "
                    f"defined at {sources[('watches', watch.name)].where()}"
                )
                continue
            watches.append(watch)
            sources[("watches", watch.name)] = Source(where, ("watches", index))
    return RulePack(entities=entities, topics=topics, watches=watches), files, sources
