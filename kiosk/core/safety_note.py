"""The safety note (docs/safety.md) as plain lines for a label: shown once, on the first start."""

from __future__ import annotations

from pathlib import Path
from typing import List

FALLBACK = ("This is not medical advice. Move gently and stop at any sharp pain. "
            "When in doubt, ask a physiotherapist.")


def read_safety_note(path: Path) -> str:
    """The note's Markdown as plain text: headings, emphasis and bullets become plain lines."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError:
        return FALLBACK
    paragraphs: List[str] = []
    joining = False
    for line in raw.splitlines():
        line = line.strip().lstrip("#").strip().replace("**", "").replace("*", "")
        if not line:
            joining = False
            continue
        if line.startswith("- "):
            paragraphs.append("• " + line[2:])
        elif joining:
            paragraphs[-1] += " " + line
        else:
            paragraphs.append(line)
        joining = True
    return "\n".join(paragraphs).strip()
