"""Humdrum **kern as characters (the 2015 char-rnn experiment, made to give valid files).

``core``: clean, restore, transpose; ``checker``: the incremental validity checker;
``constraint``: constrained decoding; ``piece``: kern -> Piece; ``codec``: the registered codec.
"""

from cadenza.codecs.kern.codec import KernCodec, most_common_header
from cadenza.codecs.kern.core import BAR, Header, KernOptions, clean, default_header, read_text, restore, transpose_text

__all__ = ["BAR", "Header", "KernCodec", "KernOptions", "clean", "default_header", "most_common_header", "read_text", "restore", "transpose_text"]
