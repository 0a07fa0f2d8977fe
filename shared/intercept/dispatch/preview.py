"""Show a rendered Slack message as its reader would see it, in plain text.

Used by the demo and the CLI to print "the alert as its recipient sees it" from the Block Kit
body Dispatch sent (or recorded): headers, field grids, sections and context lines, with
Slack's mrkdwn reduced to what a terminal shows.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

_BOLD = re.compile(r"\*([^*\n]+)\*")
_ITALIC = re.compile(r"(?<![\w])_([^_\n]+)_(?![\w])")
_CODE = re.compile(r"`([^`\n]+)`")


def plain(mrkdwn: str) -> str:
    """Slack mrkdwn to plain text: emphasis marks dropped, entities unescaped."""
    text = _CODE.sub(r"\1", _ITALIC.sub(r"\1", _BOLD.sub(r"\1", mrkdwn)))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(element: dict[str, Any]) -> str:
    value = str(element.get("text", ""))
    return plain(value) if element.get("type") == "mrkdwn" else value


def _wrap(value: str, width: int, indent: str = "  ") -> list[str]:
    lines: list[str] = []
    for paragraph in value.split("\n"):
        hanging = "  " if paragraph.startswith(("• ", "- ")) else ""
        wrapped = textwrap.wrap(paragraph, width - len(indent), subsequent_indent=hanging)
        lines.extend(wrapped or [""])
    return [f"{indent}{line}".rstrip() for line in lines]


def _fields(block: dict[str, Any], width: int) -> list[str]:
    lines = []
    for field in block.get("fields", []):
        label, _, value = _text_of(field).partition("\n")
        lines.append(f"  {label + ':':<22} {value.replace(chr(10), ' · ')}")
    return [line[:width] for line in lines]


def _block_lines(block: dict[str, Any], width: int) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text_of(block.get("text", {}))
        return [title, "─" * min(width, max(len(title), 20))]
    if kind == "section":
        lines = _wrap(_text_of(block["text"]), width) if "text" in block else []
        return lines + _fields(block, width)
    if kind == "context":
        joined = "  ".join(_text_of(element) for element in block.get("elements", []))
        return _wrap(joined, width)
    if kind == "divider":
        return ["  " + "·" * (width - 4)]
    return []


def render_preview(message: dict[str, Any], width: int = 88) -> str:
    """Plain-text view of an incoming-webhook body (`blocks`, else its fallback `text`)."""
    blocks = message.get("blocks") or []
    if not blocks:
        return "\n".join(_wrap(plain(str(message.get("text", ""))), width, indent=""))
    sections = [_block_lines(block, width) for block in blocks]
    return "\n\n".join("\n".join(lines) for lines in sections if lines)


def render_sent_message(channel: str, message: str, width: int = 88) -> str:
    """Any recorded message (an action record's `message`) as its recipient would read it.

    Slack: the Block Kit view above; e-mail: subject and text; webhook: the JSON body.
    """
    import json

    document = json.loads(message)
    if channel == "slack":
        return render_preview(document, width)
    if channel == "email":
        return f"Subject: {document.get('subject', '')}\n\n{document.get('text', '')}".rstrip()
    return json.dumps(document, indent=2, ensure_ascii=False)
