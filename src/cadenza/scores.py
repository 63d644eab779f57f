"""Transitional alias: the music21 bridge now lives in :mod:`cadenza.music.m21` (and the file
reader in :mod:`cadenza.music.reader`). Removed once every import says so."""

from cadenza.music.m21 import export_kern, parse_kern, score_stats, score_to_piece, write_musicxml  # noqa: F401
from cadenza.music.m21 import write_score_midi as write_midi  # noqa: F401
from cadenza.music.reader import PIECE_SUFFIXES, read_piece_file  # noqa: F401
from cadenza.files import dedupe_events as _dedupe_events  # noqa: F401
