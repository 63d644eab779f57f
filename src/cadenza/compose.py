"""``cadenza compose``: the one-command path from nothing to a piece you can open and hear.

Generates with a bundled model (or any run folder), then renders every format Cadenza knows:
score (.krn/.musicxml, engraved .svg/.pdf), sound (.mid/.wav) and a piano-roll picture (.png).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cadenza import CadenzaError
from cadenza.generation import generate
from cadenza.generation.request import COMPOSE, Request, request_of
from cadenza.generation.run import Run, open_run
from cadenza.render import render

RENDER_FORMATS = ("svg", "pdf", "wav", "png")


@dataclass
class Composition:
    out: Path
    model: str
    seed: int
    files: dict[str, list[Path]] = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def compose(
    model: Run | str | Path | None = None,
    out: Path | str | None = None,
    request: Request | None = None,
    *,
    render_formats: tuple[str, ...] = RENDER_FORMATS,
    soundfont: Path | None = None,
    progress: Callable[[str], None] | None = None,
    **fields: Any,
) -> Composition:
    """Write one new piece into ``out`` (default ``./cadenza-out/<timestamp>/``) as ``request``
    asks (default :data:`~cadenza.generation.request.COMPOSE`: 16 bars for a kern model, 600
    tokens for a notewise/chordwise one, a fresh seed; keywords are a Request's fields), then
    render it. A codec whose bars are grid time writes ``length`` tokens: its ``bars`` are left out."""
    from cadenza.models.pretrained import DEFAULT as DEFAULT_MODEL
    from cadenza.models.pretrained import resolve

    model = model or DEFAULT_MODEL
    run = open_run(model if isinstance(model, Run) else resolve(model))  # summary.json names the model's folder, as it always has
    req = request_of(request or COMPOSE, n=1, **fields).seeded()
    if run.codec.bar_token is None:
        req = req.but(bars=0)
    out = Path(out) if out else Path("cadenza-out") / time.strftime("%Y%m%d-%H%M%S")
    if progress:
        progress(f"composing with {model} (seed {req.seed})")
    s = generate(run, out, req)[0]
    comp = Composition(out, str(model), req.seed, {k: [v] for k, v in s.files.items()}, s.stats)  # type: ignore[arg-type]
    source = s.files.get("krn") or s.files.get("musicxml") or s.files.get("mid")
    if source is None:
        raise CadenzaError(f"{out}: the sample could not be turned into music ({s.stats.get('error', 'unknown error')})")
    title = f"Cadenza ({Path(str(model)).name}, seed {req.seed})"
    if progress:
        progress(f"rendering {', '.join(render_formats)}")
    try:  # one job: the score is engraved once for SVG, PDF and the performance the WAV and PNG hear
        got = render(source, list(render_formats), out_dir=out, title=title, soundfont=soundfont)
    except CadenzaError:  # each on its own, to keep those that work and say which failed
        got = {}
        for fmt in render_formats:
            try:
                got.update(render(source, [fmt], out_dir=out, title=title, soundfont=soundfont))
            except CadenzaError as exc:
                comp.warnings.append(f"{fmt}: {exc}")
    for k, v in got.items():
        comp.files.setdefault(k, []).extend(v)
    return comp
