"""The report document as Markdown (``report.md``): figures are linked as the PNG files beside it."""

from __future__ import annotations

from typing import Any

from cadenza.evaluation.report.document import Document


def _md_cell(x: Any) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document) -> str:
    lines = ["# Cadenza evaluation report", ""]
    for title, blocks in doc:
        lines += [f"## {title}", ""]
        for b in blocks:
            if b[0] == "p":
                lines += [b[1], ""]
            elif b[0] == "warn":
                lines += [f"> **WARNING:** {b[1]}", ""]
            elif b[0] == "pre":
                lines += ["```", b[1], "```", ""]
            elif b[0] == "img":
                lines += [f"![{b[2]}]({b[1]}.png)", ""]
            elif b[0] == "table":
                lines.append("| " + " | ".join(_md_cell(h) for h in b[1]) + " |")
                lines.append("|" + "---|" * len(b[1]))
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b[2]]
                lines.append("")
    return "\n".join(lines)
