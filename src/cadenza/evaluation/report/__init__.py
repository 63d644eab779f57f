"""The evaluation report: one document model (:mod:`.document`) written as Markdown
(:mod:`.markdown`) and HTML (:mod:`.html`), with figures drawn by :mod:`.figures`.

Imports only :mod:`cadenza.files` and the measures of :mod:`cadenza.evaluation` whose results it
shows; nothing here computes a number.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from cadenza.evaluation.report.document import document
from cadenza.evaluation.report.html import to_html
from cadenza.evaluation.report.markdown import to_markdown
from cadenza.files import atomic_write, write_json


def jsonable(x: Any) -> Any:
    """``x`` as JSON can hold it: numpy values as Python ones, NaN and infinities as None, paths as text."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, Path):
        return str(x)
    return x


def write_report(out: Path, report: dict[str, Any], figures: dict[str, Path]) -> None:
    """``report.json`` (``report`` as :func:`jsonable` gave it), ``report.md`` and ``report.html``."""
    write_json(out / "report.json", report)
    doc = document(report, figures)
    atomic_write(out / "report.md", lambda p: p.write_text(to_markdown(doc), encoding="utf-8"))
    atomic_write(out / "report.html", lambda p: p.write_text(to_html(doc, figures), encoding="utf-8"))
