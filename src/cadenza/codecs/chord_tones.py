"""Chord guidance (``--chord-strength``), the part every codec shares: while a bar is sampled
under chord X, the choices that make a chord tone of X get ``strength`` more logit and the others
nothing. It is a sampler control, like temperature: it steers which pitches are drawn and leaves
the model, the grammar mask and the chord reader (which judges the result from the notes) alone.

The bonus is given inside one decision at a time (:func:`favour`): where the sampler chooses a
pitch among notes, the group's total probability is kept, so rests, durations and waits are
drawn as often as the model alone would draw them."""

from __future__ import annotations

import numpy as np

def favour(logits: np.ndarray, group: np.ndarray, favoured: np.ndarray, strength: float) -> np.ndarray:
    """One row of ``logits`` with ``strength`` added to the ``favoured`` choices of ``group``
    and the group shifted back to its own total probability (everything outside it keeps its
    probability). ``logits`` itself when nothing changes (no favoured choice, or all)."""
    g = group & np.isfinite(logits)
    f = favoured & g
    n = int(f.sum())
    if strength == 0 or n == 0 or n == int(g.sum()):
        return logits
    out = logits.copy()
    before = np.logaddexp.reduce(out[g].astype(np.float64))
    out[f] += strength
    after = np.logaddexp.reduce(out[g].astype(np.float64))
    out[g] += before - after
    return out
