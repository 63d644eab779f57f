"""A progression asked for (``--chords``, :attr:`Request.progression`) as the decoding context
the codec's constraint reads: ``context["chords"]``, one chord name per bar, which its sampler
writes at each bar start (kern: :mod:`cadenza.codecs.kern.chord_lines`; notewise, chordwise:
:mod:`cadenza.codecs.chord_constraint`). A bar of two chords (``F C7``) is written as its first:
the model learnt one chord a bar.

Bars are counted as the sampler counts them, from the start of the text the model reads: chord
``k`` goes on bar ``k``. A continued file's excerpt already holds ``bars_before`` bars (its own
chords, as the chord reader hears them, where the codec writes them into the prime), so the
progression is turned to put its first chord on the first new bar.

Chord guidance (``--chord-strength``, ``context["chord_strength"]``; :mod:`cadenza.codecs.chord_tones`)
also favours the chord's tones where the sampler chooses a pitch. It is a sampler control: with
it a model that has no chord tokens (every bundled one) follows a progression too, the codec's
sampler writing no chord tokens into the model's text."""

from __future__ import annotations

import math
from typing import Any

from cadenza import CadenzaError
from cadenza.codecs.bar_chords import chord_tokens, token_name

def check_strength(strength: float) -> float:
    """A strength as a float: finite and not negative (0: the model alone)."""
    try:
        s = float(strength)
    except (TypeError, ValueError):
        raise CadenzaError(f"--chord-strength {strength!r}: give a number of logits, 0 or more") from None
    if not math.isfinite(s) or s < 0:
        raise CadenzaError(f"--chord-strength {strength!r}: give a finite number of logits, 0 or more (0: the model alone)")
    return s


# The default --chord-strength (logits) with --chords: measured in benchmarks/chord_models.py
# (README, "Chords, bar by bar") as the strength that reaches the 75% of bars for the
# bundled models while music21 still parses every sample.
DEFAULT_STRENGTH = 6.0


def with_progression(codec: Any, context: dict[str, Any], vocab: list[str], progression: list[tuple[Any, ...]], constrained: bool | None,
                     bars_before: int = 0, strength: float | None = None) -> dict[str, Any]:
    """``context`` with the chord names of ``progression`` (unchanged when none is asked), its
    first chord on bar ``bars_before``, and the guidance ``strength`` (None: the default). A
    model whose tokens cannot write them (not prepared with ``--condition chords``) follows
    them by guidance alone; with ``strength`` 0 it is an error."""
    if not progression:
        return context
    strength = DEFAULT_STRENGTH if strength is None else check_strength(strength)
    if not codec.can("chords") or constrained is False:
        raise CadenzaError("--chords: the sampler writes or follows each bar's chord; it needs a codec that reads chords (kern, notewise, chordwise) and constrained sampling")
    names = [token_name(bar[0]) for bar in progression]
    known = set(vocab)
    missing = [t for t in chord_tokens(names, codec.unit) if t not in known]
    if missing and not strength:
        raise CadenzaError(f"--chords: this model never wrote {', '.join(map(repr, missing[:5]))}: prepare its dataset with --condition chords (and --transpose all, for chords in every key), "
                           "or follow the chords by guidance alone (--chord-strength above 0)")
    turn = -bars_before % len(names)
    return dict(context, chords=names[turn:] + names[:turn], chord_strength=strength)
