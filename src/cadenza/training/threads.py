"""CPU threads for training that do not collapse when other programs share the cores (issue #24).

A small model's step is thousands of tiny operations (an LSTM 3x128: one per layer, time step and
gate product), each an OpenMP parallel region that ends in a barrier. Beside busy processes every
barrier waits for a thread the scheduler has put aside, while OpenMP's waiting workers spin on the
cores the others need. So a small model trains on one thread (an LSTM's numbers are the same as
with two), and the idle workers of a larger model (or of ``--threads N``) spin briefly, then sleep
(``GOMP_SPINCOUNT=1000``, what libgomp itself does when threads outnumber cores; its default is
300,000). benchmarks/results/contention.json, the default LSTM on 2 cores, tokens/s alone -> beside
2 busy processes: one thread 43k -> 28k; 2 threads spinning briefly 51k -> 17k; 2 threads as torch
had them, spinning long, 51k -> 6k. ``--threads N`` still chooses.

Imported first by ``cadenza.training`` and free of torch, so the variable is set before torch loads.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

SMALL = 2_000_000  # parameters: below this a CPU run uses one thread (as generation's few_threads)
SPIN = "1000"  # libgomp's spins before a waiting worker sleeps (its default: 300,000)


def short_spinning() -> bool:
    """Ask libgomp (torch's OpenMP on Linux) to let idle workers sleep soon, unless the user
    chose a policy. libgomp reads its variables once, when torch is loaded: this works only
    before that (as in ``cadenza train``, where this package brings torch in). True when set."""
    if any(k in os.environ for k in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")) or "torch" in sys.modules:
        return False
    os.environ["GOMP_SPINCOUNT"] = SPIN
    return True


def training_threads(requested: int, params: int, device: "torch.device") -> int:
    """``requested`` when given (``--threads N``); else one for a small model on a CPU, and
    torch's own count (the cores) for a larger one or when the work is on a GPU."""
    import torch

    if requested > 0:
        return requested
    if device.type == "cpu" and params < SMALL:
        return 1
    return torch.get_num_threads()


short_spinning()
