"""Generation: from a :class:`Run` (a trained model, opened once) and a :class:`Request` (what to
generate) to music files.

``run``: :func:`open_run`; ``request``: :class:`Request`, :class:`SamplingOptions` and the one
set of defaults; ``filters``: how the next token is chosen; ``decode``: the sampling loop and
the thread heuristic (few_threads); ``draws``: torch's seeded random numbers, made in numpy (an
LSTM is sampled without loading torch); ``beam``: beam search; ``forms``: forms such as AAB;
``new_pieces``: the one entry, ``generate(run, out, request)``, and new pieces; ``continuation``:
continuing a user's music file; ``infill``: rewriting bars of one; ``samples``: what comes back.

Imports the floors below it (``cadenza``, ``files``, ``music``, ``codecs``, ``models``,
``training``), never ``evaluation``, ``render`` or ``cli``. Codec-specific knowledge (bars,
grid steps, prompts, constraints) is asked of the codec, never decided by its name, and what a
codec can do is asked with ``codec.can``. Names are loaded on first use, so the command line
can build a Request without loading torch (which is why no module here is named as a function it
hands on: ``generate`` lives in ``new_pieces``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cadenza.generation.beam import beam_search_ids
    from cadenza.generation.continuation import continue_piece, prompt_excerpt, read_prompt
    from cadenza.generation.decode import few_threads, sample_ids
    from cadenza.generation.filters import choose, filter_logits
    from cadenza.generation.forms import form_plan, mark_phrases, parse_form, sample_form
    from cadenza.generation.new_pieces import generate
    from cadenza.generation.request import DEFAULT, Request, SamplingOptions
    from cadenza.generation.run import Run, open_run
    from cadenza.generation.samples import Sample, encode_prime

_WHERE = {
    "beam_search_ids": "beam", "continue_piece": "continuation", "prompt_excerpt": "continuation", "read_prompt": "continuation",
    "few_threads": "decode", "sample_ids": "decode", "choose": "filters", "filter_logits": "filters", "form_plan": "forms",
    "mark_phrases": "forms", "parse_form": "forms", "sample_form": "forms", "generate": "new_pieces",
    "DEFAULT": "request", "Request": "request", "SamplingOptions": "request", "Run": "run", "open_run": "run", "Sample": "samples",
    "encode_prime": "samples",
}
__all__ = [
    "DEFAULT", "Request", "Run", "Sample", "SamplingOptions", "beam_search_ids", "choose", "continue_piece", "encode_prime", "few_threads",
    "filter_logits", "form_plan", "generate", "mark_phrases", "open_run", "parse_form", "prompt_excerpt", "read_prompt", "sample_form", "sample_ids",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"cadenza.generation.{_WHERE[name]}"), name)
