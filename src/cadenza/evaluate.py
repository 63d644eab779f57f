"""Transitional alias: evaluation now lives in :mod:`cadenza.evaluation` (issue #9)."""

from cadenza.codecs.kern.piece import kern_to_piece  # noqa: F401
from cadenza.evaluation.features import (  # noqa: F401
    CONSONANT,
    FEATURES,
    GROOVE_STEPS,
    LENGTH_CLASSES,
    MAJOR,
    NATURAL_MINOR,
    PITCH_NAMES,
    Feature,
    best_scale,
    consonance,
    empty_beat_rate,
    entropy_bits,
    groove_consistency,
    ioi_histogram,
    note_length_histogram,
    notes_per_bar,
    piece_features,
    pitch_class_entropy,
    pitch_class_histogram,
    pitch_range,
    polyphony,
    scale_consistency,
    vertical_intervals,
)
from cadenza.evaluation.heldout import HeldOut, split_pieces  # noqa: F401
from cadenza.evaluation.likelihood import LN2, token_nats  # noqa: F401
from cadenza.evaluation.memorisation import BASELINE_PERCENTILE, memorisation  # noqa: F401
from cadenza.evaluation.pieces import bar_bounds, bar_length, excerpts, seconds  # noqa: F401
from cadenza.evaluation.pipeline import Progress, evaluate  # noqa: F401
from cadenza.evaluation.similarity import compare_sets, intra_inter, overlap_kl  # noqa: F401
from cadenza.evaluation.training_index import IOI_STEPS, NGRAM, TrainingIndex, onset_tokens  # noqa: F401
from cadenza.evaluation.validity import bar_check, kern_validity  # noqa: F401
