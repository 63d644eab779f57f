"""Are the samples well formed? Kern text is parsed by music21 and each bar checked against the
metre (:func:`bar_check`); other codecs decode any text, so their validity is the decoder's own
count of repairs. :func:`validity_section` is the report's "Validity of samples" section."""

from __future__ import annotations

from typing import Any

from cadenza.evaluation.pieces import piece_notes

# the records judged (a samples.CheckedSample, a heldout.HeldOut), named here, not imported: both
# of those modules read this one
CheckedSample = HeldOut = Any

REPAIR_KEYS = ("lines_repaired", "lines_dropped", "dropped", "repaired", "unclosed")  # decoders' repair counts


def error_text(exc: BaseException) -> str:
    """An exception for the report: its type and message, at most 200 characters."""
    return f"{type(exc).__name__}: {exc}"[:200]


def bar_check(score) -> dict[str, Any]:
    """Bars of a music21 score whose parts and voices fill exactly the metre's bar length (the
    first and last may be shorter). Returns counts and the numbers of the bars that do not."""
    from music21 import stream

    parts = list(score.parts) if len(score.parts) else [score]
    per_part = [list(p.getElementsByClass(stream.Measure)) for p in parts]
    n = max((len(m) for m in per_part), default=0)
    ok = 0
    bad: list[str] = []
    for j in range(n):
        good = True
        label = None
        lengths = []
        for measures in per_part:
            if j >= len(measures):
                good = False
                continue
            m = measures[j]
            label = label or str(m.number)
            try:
                want = float(m.barDuration.quarterLength)
            except Exception:
                good = False
                continue
            voices = list(m.voices)
            have = [float(v.highestTime) for v in voices] if voices else [float(m.highestTime)]
            lengths += have
            for h in have:
                if h > want + 1e-6:
                    good = False
                elif h < want - 1e-6 and 0 < j < n - 1:
                    good = False
        if good and lengths and max(lengths) - min(lengths) > 1e-6:
            good = False  # parts and voices of a short first or last bar must still end together
        ok += good
        if not good:
            bad.append(label or str(j + 1))
    return {"bars": n, "bars_ok": ok, "bad_bars": bad}


def kern_validity(kern: str) -> dict[str, Any]:
    """Whether music21 parses ``kern`` and how many of its bars fill the metre; ``score`` is
    the parsed music21 Score (None if parsing failed)."""
    from cadenza.music.m21 import parse_kern

    try:
        score = parse_kern(kern)
    except Exception as exc:  # music21 raises many types
        return {"parsed": False, "error": error_text(exc), "bars": 0, "bars_ok": 0, "bad_bars": [], "score": None}
    try:
        check = bar_check(score)
    except Exception as exc:
        check = {"bars": 0, "bars_ok": 0, "bad_bars": [], "error": f"bar check failed: {exc}"[:200]}
    return {"parsed": True, **check, "score": score}



def validity_section(gen: list[CheckedSample], test: list[HeldOut], has_bars: bool) -> dict[str, Any]:
    """Parsed samples, bars that fit (``None`` for a codec without bars), the decoders' repairs,
    one row per sample, and the same counts for the held-out pieces as a reference."""
    n = len(gen)
    parsed = sum(1 for g in gen if g.validity.get("parsed"))
    bars = sum(g.validity.get("bars", 0) for g in gen)
    ok = sum(g.validity.get("bars_ok", 0) for g in gen)
    totals: dict[str, int] = {}
    for g in gen:
        for k, v in g.repaired.items():
            totals[k] = totals.get(k, 0) + int(v)
    per = []
    for g in gen:
        v = g.validity
        per.append({"sample": g.index, "parsed": bool(v.get("parsed")), "error": v.get("error"), "bars": v.get("bars"), "bars_ok": v.get("bars_ok"), "bad_bars": v.get("bad_bars", [])[:20], "notes": len(piece_notes(g.piece)) if g.piece is not None else 0, "tokens": g.tokens, **g.repaired, "files": g.files})
    ref = None
    if test:
        rb = sum(h.validity.get("bars", 0) for h in test)
        rok = sum(h.validity.get("bars_ok", 0) for h in test)
        ref = {"pieces": len(test), "parsed_share": sum(1 for h in test if h.validity.get("parsed")) / len(test), "bars": rb, "bars_ok": rok, "bar_share": rok / rb if rb else None}
    return {
        "samples": n,
        "parsed": parsed,
        "parsed_share": parsed / n if n else None,
        "bars": bars if has_bars else None,
        "bars_ok": ok if has_bars else None,
        "bar_share": (ok / bars if bars else None) if has_bars else None,
        "repairs_total": totals,
        "repairs_per_sample": {k: v / n for k, v in totals.items()} if n else {},
        "per_sample": per,
        "reference": ref,
    }

