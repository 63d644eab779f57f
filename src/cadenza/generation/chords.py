"""A progression asked for (``--chords``, :attr:`Request.progression`) as the decoding context
the codec's constraint reads: ``context["chords"]``, one chord name per bar, which its sampler
writes at each bar start (kern: :mod:`cadenza.codecs.kern.chord_lines`; notewise, chordwise:
:mod:`cadenza.codecs.chord_constraint`). A bar of two chords (``F C7``) is written as its first:
the model learnt one chord a bar.

Bars are counted as the sampler counts them, from the start of the text the model reads: chord
``k`` goes on bar ``k``. A continued file's excerpt already holds ``bars_before`` bars (its own
chords, as the chord reader hears them, where the codec writes them into the prime), so the
progression is turned to put its first chord on the first new bar."""

from __future__ import annotations

from typing import Any

from cadenza import CadenzaError
from cadenza.codecs.bar_chords import chord_tokens, token_name


def with_progression(codec: Any, context: dict[str, Any], vocab: list[str], progression: list[tuple[Any, ...]], constrained: bool | None,
                     bars_before: int = 0) -> dict[str, Any]:
    """``context`` with the chord names of ``progression`` (unchanged when none is asked), its
    first chord on bar ``bars_before``. A model whose tokens cannot write them (not prepared
    with ``--condition chords``) is an error."""
    if not progression:
        return context
    if not codec.can("chords") or constrained is False:
        raise CadenzaError("--chords: the sampler writes each bar's chord; it needs a model prepared with --condition chords and constrained sampling")
    names = [token_name(bar[0]) for bar in progression]
    known = set(vocab)
    missing = [t for t in chord_tokens(names, codec.unit) if t not in known]
    if missing:
        raise CadenzaError(f"--chords: this model never wrote {', '.join(map(repr, missing[:5]))}: prepare its dataset with --condition chords (and --transpose all, for chords in every key)")
    turn = -bars_before % len(names)
    return dict(context, chords=names[turn:] + names[:turn])
