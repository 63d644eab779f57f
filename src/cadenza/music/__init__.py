"""Music as Cadenza holds it in memory, and the files it comes from and goes to.

* :mod:`~cadenza.music.piece`: the note model every codec meets in the middle
  (:class:`Piece` -> :class:`Track` -> :class:`Note`, times in quarters), General MIDI names;
* :mod:`~cadenza.music.midi_files`: MIDI files <-> Piece through symusic (fast);
* :mod:`~cadenza.music.instruments`: the General MIDI instrument families, their score
  abbreviations (``p``, ``v``, ``va`` ...) and score order;
* :mod:`~cadenza.music.m21`: the music21 bridge for notation: parse kern, count a score,
  export MusicXML / MIDI, a music21 score -> Piece;
* :mod:`~cadenza.music.reader`: :func:`read_piece_file`, one reader for every music file;
* :mod:`~cadenza.music.humdrum`: the Humdrum file format apart from any codec: the one kern
  reader, interpretations (clefs, key signatures), segments, kern <-> Piece without music21.

Floor 2: imports only :mod:`cadenza` (CadenzaError) and :mod:`cadenza.files`, plus symusic and
music21 (lazily, so importing this package stays cheap).
"""

from cadenza.music.m21 import export_kern, parse_kern, score_stats, score_to_piece, write_musicxml, write_score_midi
from cadenza.music.midi_files import read_midi, write_midi
from cadenza.music.piece import DEFAULT_TEMPO, GM_NAMES, KEYBOARD_PROGRAMS, Note, Piece, Track, fold_pitch
from cadenza.music.reader import PIECE_SUFFIXES, read_piece_file

__all__ = [
    "DEFAULT_TEMPO", "GM_NAMES", "KEYBOARD_PROGRAMS", "PIECE_SUFFIXES", "Note", "Piece", "Track", "export_kern", "fold_pitch",
    "parse_kern", "read_midi", "read_piece_file", "score_stats", "score_to_piece", "write_midi", "write_musicxml", "write_score_midi",
]
