"""The piano roll: matplotlib's Agg canvas directly (no pyplot state), fixed size, so it is
deterministic and thread-safe.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cadenza.music import Piece

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(pitch: int) -> str:
    """MIDI 60 -> 'C4' (scientific pitch notation)."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def pianoroll_png(
    piece: Piece,
    path: Path,
    prompt_end: float | None = None,
    title: str | None = None,
    size: tuple[float, float] = (12.0, 5.0),
    dpi: int = 100,
    *,
    new: tuple[float, float] | None = None,
    first_bar: int = 1,
) -> Path:
    """Draw ``piece`` as a piano roll PNG of exactly ``size`` x ``dpi`` pixels (1200 x 500).

    Bars along the bottom (from the time signatures), seconds along the top (from the tempo
    map), note names up the side, one colour per track, velocity as opacity. With
    ``prompt_end`` (quarters) the prompt is shaded grey and its notes paled, so what the model
    wrote stands out; with ``new`` (start, end quarters) everything outside that span is shaded
    so (bars rewritten in the middle of a piece). ``first_bar``: the number of the first bar
    (an excerpt's). Same piece, same bytes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    path = Path(path)
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.07, 0.12, 0.91, 0.74))
    notes = [(n, i) for i, t in enumerate(piece.tracks) for n in t.notes]
    if new is not None:
        prompt_end = None
    end = max(piece.end, prompt_end or 0.0, new[1] if new else 0.0, 1.0)
    if notes:
        pitches = [n.pitch for n, _ in notes]
        lo, hi = min(pitches), max(pitches)
        pad = max(2, (24 - (hi - lo)) // 2)  # show at least two octaves
        lo, hi = max(lo - pad, 0), min(hi + pad, 127)
    else:
        lo, hi = 48, 72
        ax.text(0.5, 0.5, "no notes", transform=ax.transAxes, ha="center", va="center", color="0.5")

    palette = [to_rgb(f"C{i}") for i in range(10)]
    handles: list[Patch] = []
    for i, track in enumerate(piece.tracks):
        if not track.notes:
            continue
        base = np.array((0.35, 0.35, 0.35) if track.is_drum else palette[i % len(palette)])
        starts = np.array([n.start for n in track.notes])
        durs = np.maximum(np.array([n.duration for n in track.notes]), 0.05)
        ys = np.array([n.pitch for n in track.notes], dtype=float)
        vel = np.clip(np.array([n.velocity for n in track.notes]) / 127.0, 0, 1)
        x0, x1, y0, y1 = starts, starts + durs, ys - 0.42, ys + 0.42
        verts = np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1), np.stack([x0, y1], 1)], 1)
        rgba = np.empty((len(starts), 4))
        if new is not None:
            in_prompt = (starts < new[0] - 1e-6) | (starts >= new[1] - 1e-6)
        else:
            in_prompt = starts < prompt_end if prompt_end is not None else np.zeros(len(starts), bool)
        rgba[:, :3] = np.where(in_prompt[:, None], 0.45 * base + 0.55, base)  # prompt notes paled
        rgba[:, 3] = 0.45 + 0.55 * vel
        ax.add_collection(PolyCollection(verts, facecolors=rgba, edgecolors="none"))
        handles.append(Patch(color=base, label=track.name or f"track {i + 1}"))

    if prompt_end is not None and prompt_end > 0:
        ax.axvspan(0, prompt_end, color="0.9", zorder=0, lw=0)
        ax.axvline(prompt_end, color="0.25", ls="--", lw=1)
        label = {"transform": ax.get_xaxis_transform(), "va": "top", "fontsize": 8, "color": "0.3"}
        ax.text(prompt_end * 0.01, 0.985, " prompt", ha="left", **label)
        if prompt_end < end:
            ax.text(prompt_end, 0.985, " continuation", ha="left", **label)

    if new is not None:
        ax.axvspan(0, new[0], color="0.9", zorder=0, lw=0)
        ax.axvspan(new[1], end, color="0.9", zorder=0, lw=0)
        ax.axvspan(new[0], new[1], color="#fff3c4", zorder=0, lw=0)  # the rewritten bars, highlighted
        label = {"transform": ax.get_xaxis_transform(), "va": "top", "fontsize": 8, "color": "0.3"}
        ax.text(new[0], 0.985, " rewritten", ha="left", **label)

    ax.set_xlim(0, end)
    ax.set_ylim(lo - 0.5, hi + 0.5)
    bars = _bar_starts(piece, end)
    step = next(s for s in (1, 2, 4, 5, 8, 10, 16, 20, 25, 50, 100, 200, 500, 1000) if len(bars) / s <= 16)
    ax.set_xticks([q for i, q in enumerate(bars) if i % step == 0], [str(i + first_bar) for i in range(0, len(bars), step)])
    if len(bars) <= 400:  # one LineCollection: per-bar minor ticks cost matplotlib ~1 s
        ax.vlines(bars[1:], 0, 1, transform=ax.get_xaxis_transform(), colors="0.82", lw=0.5, zorder=0.5)
    ax.set_xlabel("bar")
    cs = [p for p in range(lo, hi + 1) if p % 12 == 0]
    labelled = cs if len(cs) >= 2 else [p for p in range(lo, hi + 1) if p % 12 in (0, 4, 7)]
    ax.set_yticks(labelled, [note_name(p) for p in labelled])
    for p in cs:
        ax.axhline(p - 0.5, color="0.8", lw=0.6, zorder=0.5)
    ax.set_ylabel("pitch")

    q_knots, s_knots = _tempo_knots(piece, end)
    top = ax.secondary_xaxis("top", functions=(lambda q: np.interp(q, q_knots, s_knots), lambda s: np.interp(s, s_knots, q_knots)))
    top.set_xlabel("seconds", fontsize=8)
    top.tick_params(labelsize=8)
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.85, ncol=min(4, len(handles)))
    heading = title if title is not None else piece.name
    if heading:
        fig.suptitle(heading, fontsize=11, y=0.985)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png", metadata={"Software": None})
    return path


def _bar_starts(piece: Piece, end: float) -> list[float]:
    """Where each bar begins, in quarters; a new time signature starts a new bar."""
    sigs = sorted(piece.time_signatures) or [(0.0, 4, 4)]
    if sigs[0][0] > 0:
        sigs.insert(0, (0.0, 4, 4))
    bars, q = [], 0.0
    for i, (at, num, den) in enumerate(sigs):
        q = max(q, at)
        nxt = sigs[i + 1][0] if i + 1 < len(sigs) else float("inf")
        length = num * 4.0 / den if num > 0 and den > 0 else 4.0
        while q < min(nxt, end) - 1e-9:
            bars.append(q)
            q += length
        q = min(q, nxt) if nxt < float("inf") else q
    return bars or [0.0]


def _tempo_knots(piece: Piece, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Quarters and seconds at each tempo change (and beyond the end), for interpolation."""
    tempos = sorted(piece.tempos) or [(0.0, 120.0)]
    if tempos[0][0] > 0:
        tempos.insert(0, (0.0, 120.0))
    qs, ss = [0.0], [0.0]
    for i, (at, qpm) in enumerate(tempos):
        nxt = tempos[i + 1][0] if i + 1 < len(tempos) else max(end, at) * 2 + 16
        if nxt > qs[-1]:
            ss.append(ss[-1] + (nxt - max(at, qs[-1])) * 60.0 / max(qpm, 1e-3))
            qs.append(nxt)
    return np.array(qs), np.array(ss)
