"""Humdrum **kern as characters (the 2015 char-rnn experiment, made to give valid files).

The file format itself (the one kern reader, interpretations, kern <-> Piece, clefs) lives in
:mod:`cadenza.music.humdrum`; this folder is the codec built on it: the text the model reads,
its grammar and checks, and decoding. Bottom up (each file imports only the ones above it):

* ``harm``: each bar's chord as a ``!!chord:`` line after its barline (``--condition chords``),
  an ``**mxhm`` spine restored;
* ``header``: the :class:`Header` a cleaned text leaves out; ``cleaning``, ``restoring``,
  ``transposition``: file -> model text -> file, and transposing model text;
* ``grammar``: the token grammar's tables; ``allowed``, ``data_tokens``,
  ``interpretation_lines``, ``checker``: the incremental validity checker; ``explain``: its
  reasons; ``report``: whole texts checked bar by bar;
* ``shapes``: the token shapes the corpus writes (the generation grammar); ``convert``: MIDI,
  MusicXML and ABC files written as kern (:mod:`cadenza.music.humdrum.writer`) to encode;
* ``chord_lines``: chord lines in constrained decoding; ``constraint``: constrained decoding;
  ``prompt``: continuing a user's kern file; ``kern_infill``: rewriting chosen bars of it (the
  kern half of ``cadenza infill``); ``codec``: the registered codec.

Floor 3 (codecs): imports :mod:`cadenza`, :mod:`cadenza.files`, :mod:`cadenza.music` and
:mod:`cadenza.codecs`, never a higher floor (:mod:`cadenza.music.m21` only lazily, for export).
"""

from cadenza.codecs.kern.cleaning import KernOptions, clean, read_text
from cadenza.codecs.kern.codec import KernCodec, most_common_header
from cadenza.codecs.kern.header import Header, default_header
from cadenza.codecs.kern.restoring import restore
from cadenza.codecs.kern.transposition import transpose_text
from cadenza.music.humdrum.spines import BAR

__all__ = ["BAR", "Header", "KernCodec", "KernOptions", "clean", "default_header", "most_common_header", "read_text", "restore", "transpose_text"]
