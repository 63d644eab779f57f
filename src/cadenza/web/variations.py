"""One variation as the page shows it: the files a sample was written as, rendered, and their
URLs.

A new piece is shown whole. A continuation or a rewrite is shown as the bars the model wrote
with a little context (the last bars of the prompt, or the bars around those rewritten,
shaded): a continuation of a 200-bar upload renders six bars, not the whole movement (issue
#23: 10 pages and a 6-minute WAV in 30 s, the new bars a sliver at the end). The whole piece
is one click away: its MIDI and kern are written with the sample, and its score, WAV and
MusicXML are rendered when first asked for (:func:`render_later`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cadenza import CadenzaError
from cadenza.web.plain import plain

SHOWN = ("svg", "wav", "png")  # rendered at once for what the page shows
CONTEXT_BARS = 2  # prompt bars shown before a continuation, and around rewritten bars
# formats a result file may be rendered in when first asked for, from its sample's own file
LATER = {".wav": "wav", ".musicxml": "musicxml", ".krn": "krn", ".png": "png", ".pdf": "pdf"}


def variation(web: Any, run: Any, p: Any, s: Any, rewrite: tuple[int, int] | None) -> dict[str, Any]:
    """The JSON of one sample ``s``: URLs of what is shown (``svg_pages``, ``wav``, ``png``),
    the whole piece's downloads (``midi``, ``krn``, ``musicxml``) and, for a continuation or a
    rewrite, ``shown`` (the bars drawn) and ``whole`` (the whole piece's score and WAV)."""
    render = web.render  # in a render process: see jobs.RenderPool
    source = s.files.get("krn") or s.files.get("musicxml") or s.files["mid"]
    prompt_end = s.stats.get("prompt_quarters")
    title = f"{run.name}, seed {p.seed}, variation {s.index}"
    v: dict[str, Any] = {"index": s.index, "notes": s.stats.get("notes"), "prompt_quarters": prompt_end, "warnings": [],
                         "metre": s.stats.get("metre"), "key": s.stats.get("key")}  # what a kern model wrote in (typed or drawn)
    mid = s.files.get("mid")
    try:
        got = _excerpt(web, render, Path(mid), prompt_end, rewrite, title, v) if (prompt_end is not None or rewrite) and mid is not None else None
        if got is None:  # a new piece, or a continuation of a prompt short enough to show whole
            got = render(source, list(SHOWN), out_dir=source.parent, title=title, prompt_end=prompt_end)
    except CadenzaError as exc:
        got = {}
        v["warnings"].append(plain(exc))
    for key in ("wav", "png"):
        v[key] = web.results.url(got[key][0]) if got.get(key) else None
    if "play" not in v and mid is not None:
        v["play"] = playable(Path(mid))
    v["svg_pages"] = [web.results.url(x) for x in got.get("svg", [])]
    v["svg"] = v["svg_pages"][0] if v["svg_pages"] else None
    v["midi"] = web.results.url(mid) if mid else None
    stem = str(Path(source).parent / Path(source).stem)  # not with_suffix: a name such as bwv66.6-01 keeps its dot
    v["krn"] = web.results.url(Path(stem + ".krn"))  # written now (kern models) or when first downloaded
    v["musicxml"] = web.results.url(Path(stem + ".musicxml"))
    if "continuation" in s.files:
        v["continuation_midi"] = web.results.url(s.files["continuation"])
    return v


def _excerpt(web: Any, render: Any, mid: Path, prompt_end: float | None, rewrite: tuple[int, int] | None, title: str, v: dict[str, Any]) -> dict | None:
    """Render the new bars with :data:`CONTEXT_BARS` around them; note them in ``v``. None for
    a continuation whose excerpt would be the whole piece (a short prompt): shown as it is."""
    from cadenza.music import read_midi, write_midi
    from cadenza.render.excerpt import bar_starts, excerpt

    piece = read_midi(mid)
    if rewrite:
        starts, number = bar_starts(piece)
        first, last = (max(0, min(len(starts) - 1, b - number)) for b in rewrite)
        a, b = starts[first], (starts[last + 1] if last + 1 < len(starts) else piece.end)
        ex = excerpt(piece, a, b, CONTEXT_BARS, CONTEXT_BARS)
    else:
        ex = excerpt(piece, float(prompt_end or 0.0), None, CONTEXT_BARS)
        if ex.offset <= 0:
            return None
    shown = write_midi(ex.piece, mid.parent / f"{mid.stem}-bars-{ex.first_bar}-{ex.last_bar}.mid")
    v["play"] = playable(ex.piece)
    label = f"{title}, bars {ex.first_bar}-{ex.last_bar}"
    kw = {"new": ex.new} if rewrite else {"prompt_end": ex.new[0]}
    got = render(shown, list(SHOWN), out_dir=mid.parent, title=label, first_bar=ex.first_bar, **kw)
    if rewrite:
        mark_bars(got.get("svg", []), range(rewrite[0] - ex.first_bar, rewrite[1] - ex.first_bar + 1))
    stem = str(mid.parent / mid.stem)
    v["shown"] = {"first_bar": ex.first_bar, "last_bar": ex.last_bar, "new_quarters": [round(x, 3) for x in ex.new], "context_bars": CONTEXT_BARS,
                  "midi": web.results.url(shown)}
    v["whole"] = {"score": "/api/score/" + web.results.url(Path(stem + ".svg")).removeprefix("/files/"),
                  "wav": web.results.url(Path(stem + ".wav")), "png": web.results.url(Path(stem + ".png"))}
    return got


def playable(piece: Any, limit: int = 20_000) -> dict[str, Any]:
    """What the page's player needs of a piece (a :class:`~cadenza.music.Piece` or a MIDI file):
    its notes and bar starts in quarters and its opening tempo, so that one transport plays the
    notes and moves a cursor through the roll and the score's bars alike (issue #23)."""
    from cadenza.music import read_midi
    from cadenza.render.excerpt import bar_starts

    if isinstance(piece, Path):
        piece = read_midi(piece)
    starts, first = bar_starts(piece)
    notes = piece.notes[:limit]
    tempo = next((t for q, t in sorted(piece.tempos) if t > 0), 120.0)
    return {"tempo": round(tempo, 2), "end": round(piece.end, 3), "bars": [round(q, 3) for q in starts], "first_bar": first,
            "notes": [[round(n.start, 3), round(n.duration, 3), n.pitch, n.velocity] for n in notes]}


def mark_bars(pages: list[Path], bars: range, colour: str = "#c2410c") -> None:
    """Colour the notes of ``bars`` (0 = the first bar engraved) in verovio's SVG ``pages`` and
    mark their measures ``data-rewritten``: the rewritten bars stand out in the score as they do
    in the roll."""
    seen = 0
    for page in pages:
        parts = Path(page).read_text(encoding="utf-8").split('class="measure"')
        out = parts[0]
        for part in parts[1:]:
            if seen in bars:
                out += 'class="measure" data-rewritten="1"' + part.replace('class="layer"', f'class="layer" color="{colour}" fill="{colour}"')
            else:
                out += 'class="measure"' + part
            seen += 1
        Path(page).write_text(out, encoding="utf-8")


def source_of(path: Path) -> Path | None:
    """The file a missing result ``path`` is rendered from: its sample's kern, MusicXML or MIDI
    (never the excerpt's), or None when ``path`` is not one :data:`LATER` renders."""
    if path.suffix not in LATER and path.suffix != ".svg":
        return None
    for suffix in (".krn", ".musicxml", ".mid"):
        got = path.with_suffix(suffix)
        if got != path and got.is_file():
            return got
    return None


def render_later(path: Path, title: str | None = None, render: Any = None) -> list[Path]:
    """Render ``path`` (a .wav, .musicxml, .krn, .png or .pdf of a sample, or ``.svg``: its score
    pages) from the sample's own file, with ``render`` (default :func:`cadenza.render.render`);
    the files written. Raises :class:`CadenzaError`."""
    if render is None:
        from cadenza.render import render
    source = source_of(path)
    if source is None:
        raise CadenzaError(f"{path.name}: nothing to render it from")
    fmt = "svg" if path.suffix == ".svg" else LATER[path.suffix]
    return render(source, [fmt], out_dir=path.parent, title=title)[fmt]


def warm() -> None:
    """Import what rendering needs (matplotlib, verovio: ~2 s) before the first request waits for it."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.figure  # noqa: F401

    from cadenza.render.score import new_toolkit

    new_toolkit()
