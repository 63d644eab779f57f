"""Transitional alias: corpus preparation now lives in the :mod:`cadenza.data` package.
Removed once every import says so."""

from cadenza.data.dataset import PIECE_SEP, load_manifest, load_pieces, load_split  # noqa: F401
from cadenza.data.prepare import PrepareReport, SourceRecord, prepare  # noqa: F401
from cadenza.data.prepare import encode_file as _encode_one  # noqa: F401
from cadenza.data.sources import find_sources  # noqa: F401
from cadenza.data.split import _bar_windows, _hash, group_duplicates, parse_transpose, split_groups  # noqa: F401
