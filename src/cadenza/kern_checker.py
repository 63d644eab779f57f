"""Transitional alias: the checker lives in :mod:`cadenza.codecs.kern.checker`."""

from cadenza.codecs.kern.checker import *  # noqa: F401,F403
from cadenza.codecs.kern.checker import DEFAULT_VOCAB, METERS, TPQ, KernChecker, check_report, check_text  # noqa: F401
