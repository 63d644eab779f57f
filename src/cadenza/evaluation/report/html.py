"""The report document as one self-contained HTML page (``report.html``): figures embedded as
base64 PNGs, ``**bold**`` and ``code`` spans of the text rendered."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from cadenza.evaluation.report.document import Document

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;font-size:.9em;text-align:left}
th{background:#f3f3f3}.warn{background:#fde8e8;border-left:5px solid #c00;padding:.5em 1em;font-weight:600}
img{max-width:100%}pre{background:#f7f7f7;padding:.8em;white-space:pre-wrap;font-size:.8em}"""


def _inline(text: str) -> str:
    t = html.escape(str(text))
    t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", t)


def to_html(doc: Document, figures: dict[str, Path]) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Cadenza evaluation report</title>", f"<style>{_CSS}</style></head><body>", "<h1>Cadenza evaluation report</h1>"]
    for title, blocks in doc:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        for b in blocks:
            if b[0] == "p":
                parts.append(f"<p>{_inline(b[1])}</p>")
            elif b[0] == "warn":
                parts.append(f"<p class='warn'>WARNING: {_inline(b[1])}</p>")
            elif b[0] == "pre":
                parts.append(f"<pre>{html.escape(b[1])}</pre>")
            elif b[0] == "img":
                data = base64.b64encode(Path(figures[b[1]]).read_bytes()).decode("ascii")
                parts.append(f"<figure><img alt='{html.escape(b[2])}' src='data:image/png;base64,{data}'><figcaption>{html.escape(b[2])}</figcaption></figure>")
            elif b[0] == "table":
                parts.append("<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in b[1]) + "</tr>")
                parts += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in b[2]]
                parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
