"""Untrusted feed HTML → one line of plain text. Shared by the parser (for matching and storage) and the
notifier (for rendering), so both see exactly the same text."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# C0/C1 control characters (except tab/newline/CR, which become spaces below) and NUL: PostgreSQL refuses
# NUL in text columns, and none of them mean anything in a headline.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TAG = re.compile(r"<[^>]*>")


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, skipping script/style content; block tags become spaces."""

    _SKIP = frozenset({"script", "style", "head", "title"})
    _BREAK = frozenset(
        {
            "br",
            "p",
            "div",
            "li",
            "tr",
            "td",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "blockquote",
            "section",
            "article",
            "figure",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(value: object) -> str:
    """Tags dropped, entities decoded, control characters removed, whitespace collapsed."""
    if not value:
        return ""
    text = value if type(value) is str else str(value)
    if "<" not in text and "&" not in text and "  " not in text and text.isprintable():
        # Already one clean line, returned as is: the space is the only printable whitespace and every
        # control character is unprintable, so the general path below would give exactly this.
        return text.strip()
    if "<" in text or "&" in text:
        parser = _TextExtractor()
        try:
            parser.feed(text)
            parser.close()
            text = "".join(parser.parts)
        except Exception:  # HTMLParser asserts on some malformed markup; never let one item break a poll
            text = html.unescape(_TAG.sub(" ", text))
    if not text.isprintable():  # every character _CONTROL removes is unprintable: most text skips the scan
        text = _CONTROL.sub("", text)
    return " ".join(text.split())


def clean_line(value: object) -> str:
    """Identifiers such as links and guids: only control characters removed and the ends trimmed."""
    return _CONTROL.sub("", str(value)).strip() if value else ""
