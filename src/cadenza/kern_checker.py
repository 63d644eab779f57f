"""Transitional alias: the checker lives in :mod:`cadenza.codecs.kern.checker`, its grammar in
:mod:`cadenza.codecs.kern.grammar`, the whole-text checks in :mod:`cadenza.codecs.kern.report`."""

from cadenza.codecs.kern.checker import KernChecker  # noqa: F401
from cadenza.codecs.kern.grammar import *  # noqa: F401,F403
from cadenza.codecs.kern.grammar import DEFAULT_VOCAB, METERS, TPQ  # noqa: F401
from cadenza.codecs.kern.report import check_report, check_text  # noqa: F401
