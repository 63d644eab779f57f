"""The Humdrum file format (**kern scores), apart from any codec that turns it into tokens, as
music21's ``humdrum/`` and humlib (Craig Sapp's Humdrum library) keep it: render and evaluation
read and write files through here, and the kern codec builds its tokens on it.

Bottom up (each file imports only the ones above it):

* ``spines``: the one reader: records, tokens, spine moves, durations, pitches, ties;
* ``interpretations``: clef, key signature, key, metre and tempo records; key signatures <->
  fifths;
* ``structure``: the spine structure checked line by line (one token per active spine, legal
  spine moves), before verovio or the kern codec's cleaning reads a text;
* ``segments``: a file that holds several pieces one after another;
* ``clefs``: staff positions and ledger lines, clef changes kept only where they help;
* ``to_piece``: kern -> :class:`~cadenza.music.piece.Piece` without music21;
* ``writer``: a :class:`~cadenza.music.piece.Piece` -> a kern score.

Floor 2 (music): imports :mod:`cadenza` (CadenzaError) and :mod:`cadenza.music.piece` only.
"""

from cadenza.music.humdrum.segments import Segment, segment_names, segments
from cadenza.music.humdrum.to_piece import kern_bars, kern_to_piece
from cadenza.music.humdrum.writer import piece_to_kern

__all__ = ["Segment", "kern_bars", "kern_to_piece", "piece_to_kern", "segment_names", "segments"]
