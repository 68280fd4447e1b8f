"""Durations and sizes as people write them in YAML (`90s`, `5m`, `5MB`), with messages that show how."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, ByteSize, TypeAdapter, ValidationError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_BYTE_SIZE = TypeAdapter(ByteSize)


def parse_duration(value: Any) -> timedelta:
    """`90s`, `5m`, `1.5h`, `2d`, or a bare number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; write it like 90s, 5m, 2h or 1d")
    return timedelta(seconds=float(match[1]) * _DURATION_UNITS[(match[2] or "s").lower()])


def parse_size(value: Any) -> int:
    """`5MB`, `512KiB`, or a bare number of bytes (pydantic's ByteSize, with a message that shows how)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a size; write it like 512KB, 5MB or 1GiB")
    try:
        return int(_BYTE_SIZE.validate_python(value))
    except ValidationError:
        raise ValueError(f"{value!r} is not a size; write it like 512KB, 5MB or 1GiB") from None


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]
