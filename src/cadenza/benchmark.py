"""Transitional alias: the polyphonic benchmark now lives in :mod:`cadenza.evaluation.polybench`
and :mod:`cadenza.evaluation.polybench_run` (issue #9)."""

from cadenza.evaluation.polybench import (  # noqa: F401
    ARCHS,
    DATASETS,
    LOWEST_MIDI,
    N_NOTES,
    PUBLISHED,
    SPLITS,
    FrameLSTM,
    FrameTCN,
    build_frame_model,
    dataset_key,
    frame_nll,
    load_poly,
    nll_per_frame,
    shift_right,
)
from cadenza.evaluation.polybench import length_batches as _batches  # noqa: F401
from cadenza.evaluation.polybench import pad_rolls as _pad  # noqa: F401
from cadenza.evaluation.polybench import training_windows as _windows  # noqa: F401
from cadenza.evaluation.polybench_run import SETTINGS, TCN_SETTINGS, load_frame_model, run_benchmark  # noqa: F401
