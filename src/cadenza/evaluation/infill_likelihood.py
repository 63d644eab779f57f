"""How much does seeing what comes after help? Bits per token of held-out middles, read with the
bars before and after (fill in the middle) against the bars before only.

Both read exactly the same middle tokens of the same held-out pieces: spans of
:data:`MIDDLE` tokens with :data:`BEFORE` tokens before and :data:`AFTER` after (character codecs
cut at line starts, as FIM training does), evenly spaced through each piece. Left context only is
what ``generate --prompt`` gives a model; the FIM reading is what ``cadenza infill`` gives it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

BEFORE, MIDDLE, AFTER = 384, 192, 192
PER_PIECE = 4


def spans(ids: list[int], line: int, per_piece: int = PER_PIECE) -> list[tuple[int, int]]:
    """(start, end) of up to ``per_piece`` middles, evenly spaced, each with room around it;
    with ``line`` >= 0 both ends move forward to a line start."""
    out: list[tuple[int, int]] = []
    room = len(ids) - BEFORE - MIDDLE - AFTER
    if room < 0:
        return out
    for k in range(per_piece):
        a = BEFORE + room * k // max(per_piece - 1, 1) if per_piece > 1 else BEFORE
        if line >= 0:
            a = next((i for i in range(a, a + MIDDLE) if ids[i - 1] == line), a)
            b = next((i for i in range(a + MIDDLE, min(len(ids) - AFTER, a + 2 * MIDDLE)) if ids[i - 1] == line), a + MIDDLE)
        else:
            b = a + MIDDLE
        if not out or a >= out[-1][1]:
            out.append((a, b))
    return out


def middle_bits(model: Any, config: dict[str, Any], dataset: Path, split: str = "test", max_pieces: int = 0) -> dict[str, Any] | None:
    """Bits per middle token with the FIM reading and with left context only (None: the model
    was not trained to fill in the middle)."""
    from cadenza.codecs import codec_of
    from cadenza.codecs.fim import ROLES, can_infill, fim_format, fim_prime, sentinel
    from cadenza.evaluation.heldout import split_pieces
    from cadenza.evaluation.likelihood import LN2, piece_ids, token_nats

    codec = codec_of(config)
    vocab, unit = config["vocab"], codec.unit
    if not can_infill(vocab, unit):
        return None
    stoi = {t: i for i, t in enumerate(vocab)}
    texts = [text for text, _ in split_pieces(Path(dataset), split, unit)]
    seqs, _, _ = piece_ids(texts[: max_pieces or None], codec, vocab)
    line = stoi.get("\n", -1) if unit == "char" else -1
    layout = fim_format(config)
    marks = {r: stoi[sentinel(r, unit)] for r in ROLES}
    left, fim, lengths = [], [], []
    for ids in seqs:
        for a, b in spans(ids, line):
            before, middle, after = ids[a - BEFORE : a], ids[a:b], ids[b : b + AFTER]
            left.append(before + middle)
            fim.append(fim_prime(before, after, marks, layout) + middle)
            lengths.append(len(middle))
    if not lengths:
        return {"middles": 0}
    lt, ft = token_nats(model, left), token_nats(model, fim)
    lsum = sum(float(x[-m:].sum()) for x, m in zip(lt, lengths))
    fsum = sum(float(x[-m:].sum()) for x, m in zip(ft, lengths))
    tokens = int(np.sum(lengths))
    return {"middles": len(lengths), "pieces": len(seqs), "tokens": tokens, "before": BEFORE, "after": AFTER,
            "left_bits_per_token": lsum / tokens / LN2, "fim_bits_per_token": fsum / tokens / LN2,
            "fim_over_left": fsum / lsum if lsum else None}
