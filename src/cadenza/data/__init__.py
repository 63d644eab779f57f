"""From a corpus of music files to a dataset on disk, and back into memory for training.

* :mod:`~cadenza.data.sources`: find the files (paths, folders, ``music21:NAME`` collections);
* :mod:`~cadenza.data.label_sources`: where a piece's labels (composer, style, instrument) come
  from: metadata, kern reference records, folders (:mod:`cadenza.codecs.labels` makes them tokens);
* :mod:`~cadenza.data.split`: near-duplicate grouping, the seeded split by piece, ``--transpose``;
* :mod:`~cadenza.data.prepare`: :func:`prepare`, encoding every file and writing the dataset;
* :mod:`~cadenza.data.dataset`: the dataset folder: :func:`load_manifest`, :func:`load_split`,
  :func:`load_pieces`.

A dataset folder holds what ``train`` needs and nothing it must be told again::

    train.txt val.txt test.txt   the codec text of each split, pieces separated by a blank line
    train.ids.npy val.ids.npy test.ids.npy
                                 the same as token ids (NumPy .npy, uint16 or uint32), which
                                 training memory-maps: a corpus larger than memory still trains
    vocab.json                   the token inventory (index = token id)
    pieces.jsonl                 one record per piece (name, source, split, transposition, info)
    manifest.json                codec + options, layout, counts, and every source file: used or
                                 skipped with a one-line reason

Splits are by *piece*, never by line, and near-duplicates (a movement whose bars also occur in
another file, like the Waldstein coda stored twice) are grouped so both land on the same side.
Transposed copies are made after the split and stay on their piece's side.

Floor 4: imports :mod:`cadenza.music` and :mod:`cadenza.codecs` (and the floor-1 helpers).
"""

from cadenza.data.dataset import PIECE_SEP, load_manifest, load_pieces, load_split, write_dataset
from cadenza.data.prepare import PrepareReport, SourceRecord, encode_file, prepare
from cadenza.data.sources import find_sources, music21_collection
from cadenza.data.split import group_duplicates, parse_transpose, split_groups

__all__ = [
    "PIECE_SEP", "PrepareReport", "SourceRecord", "encode_file", "find_sources", "group_duplicates", "load_manifest", "load_pieces",
    "load_split", "music21_collection", "parse_transpose", "prepare", "split_groups", "write_dataset",
]
