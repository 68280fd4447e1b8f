"""YAML read with the position of every key, so each problem can be reported as `file:line: key: message`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from monitor.core.hints import closest
from monitor.match.rules import ROUTE_TAGS


class Located:
    """Maps key paths of a YAML document to line numbers (and scalar columns) for error messages."""

    def __init__(self, file: Path, node: yaml.Node | None) -> None:
        self.file = file
        self.marks: dict[tuple[Any, ...], yaml.Mark] = {}
        self.scalars: dict[tuple[Any, ...], yaml.ScalarNode] = {}
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, path: tuple[Any, ...]) -> None:
        self.marks[path] = node.start_mark
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self._walk(value, (*path, key.value))
                self.marks[(*path, key.value)] = key.start_mark
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                self._walk(value, (*path, index))
        elif isinstance(node, yaml.ScalarNode):
            self.scalars[path] = node

    def line(self, path: tuple[Any, ...]) -> int:
        for cut in range(len(path), -1, -1):
            mark = self.marks.get(tuple(path[:cut]))
            if mark is not None:
                return mark.line + 1
        return 1

    def where(self, path: tuple[Any, ...], column: int | None = None) -> str:
        """`file:line` or, for a position inside a one-line scalar, `file:line:column`."""
        line = self.line(path)
        node = self.scalars.get(tuple(path))
        if column is not None and node is not None and node.start_mark.line == node.end_mark.line:
            quote = 1 if node.style in ("'", '"') else 0
            return f"{self.file}:{line}:{node.start_mark.column + quote + column}"
        return f"{self.file}:{line}"


def dotted(path: tuple[Any, ...]) -> str:
    """A key path as users write it: `channels.ops.topics[0]`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def read_yaml(file: Path, problems: list[str]) -> tuple[Any, Located]:
    """The document and its key positions; (None, empty positions) with the problem appended if unreadable."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{file}: cannot read: {exc.strerror or exc}")
        return None, Located(file, None)
    except UnicodeDecodeError as exc:
        problems.append(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8")
        return None, Located(file, None)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        problem = getattr(exc, "problem", None) or str(exc)
        problems.append(f"{where}: YAML syntax error: {problem}")
        return None, Located(file, None)
    return data, Located(file, node)


def _known_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at `loc` (for did-you-mean); walks nested models, lists and dicts."""
    current: Any = model
    mapping_key = False  # the previous field is a dict: this part is one of its keys, not a field
    for part in loc[:-1]:
        if isinstance(part, int) or current is None or mapping_key:
            mapping_key = False
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None
        if field is None:
            return []
        mapping_key = "dict[" in str(field.annotation)
        current = _inner_model(field.annotation)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def validate(model: type[BaseModel], data: Any, located: Located, problems: list[str]) -> Any:
    """The model built from `data`, or None with every validation problem appended to `problems`."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if part not in ROUTE_TAGS)
            if error["type"] == "extra_forbidden":
                known = _known_fields(model, loc)
                hint = closest(str(loc[-1]), known)
                tip = f"did you mean '{hint}'?" if hint else f"allowed keys: {', '.join(known)}"
                problems.append(f"{located.where(loc)}: {dotted(loc)}: unknown key; {tip}")
            else:
                message = error["msg"].removeprefix("Value error, ")
                problems.append(f"{located.where(loc)}: {dotted(loc)}: {message}")
        return None
