"""Every codec decodes to one shape (issue #21): ``Decoded.piece`` always, ``score`` where the
codec writes its own score text (kern), so no caller asks which kind of thing it got."""

from __future__ import annotations

import pytest

from cadenza.codecs import Decoded, get_codec

KERN = "**kern\t**kern\n*M2/4\t*M2/4\n=1\t=1\n4c\t4e\n4d\t4f\n=2\t=2\n2e\t2g\n==\t==\n*-\t*-\n"


def test_kern_decodes_to_its_score_and_the_piece_read_from_it():
    codec = get_codec("kern")
    enc = codec.encode_text(KERN)
    decoded = codec.decode(enc.text, enc.info)
    assert "*M2/4" in decoded.score and decoded.score.count("\n=") >= 2
    assert sorted((n.start, n.pitch) for n in decoded.piece.notes) == [(0.0, 60), (0.0, 64), (1.0, 62), (1.0, 65), (2.0, 64), (2.0, 67)]
    decoded.score = decoded.score.replace("2e\t2g", "2f\t2a")  # the piece follows the score it is read from
    assert sorted(n.pitch for n in decoded.piece.notes if n.start == 2.0) == [65, 69]


def test_a_grid_codec_decodes_to_a_piece_and_no_score():
    decoded = get_codec("notewise").decode("p27 wait4 endp27", {})  # p27: 27 above the range's lowest note, A1 (33)
    assert decoded.score is None and [(n.start, n.pitch) for n in decoded.piece.notes] == [(0.0, 60)]


def test_decoded_needs_a_piece_or_a_score_to_read():
    with pytest.raises(ValueError):
        Decoded("text", {})
