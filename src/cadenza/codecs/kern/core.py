"""Transitional alias: cleaning, restoring and transposing now live in
:mod:`~cadenza.codecs.kern.cleaning`, :mod:`~cadenza.codecs.kern.restoring`,
:mod:`~cadenza.codecs.kern.transposition`, the header in :mod:`~cadenza.codecs.kern.header`."""

from cadenza.codecs.kern.cleaning import KernOptions, clean, read_text  # noqa: F401
from cadenza.codecs.kern.header import KEYSIG as _KEYSIG  # noqa: F401
from cadenza.codecs.kern.header import Header, default_header  # noqa: F401
from cadenza.codecs.kern.reader import BAR  # noqa: F401
from cadenza.codecs.kern.restoring import restore  # noqa: F401
from cadenza.codecs.kern.transposition import (  # noqa: F401
    _SPELLINGS,
    _keysig_fifths,
    _keysig_token,
    _transpose_key,
    choose_interval,
    transpose_text,
)
