"""Generation: sample token sequences from a trained run and turn them into music files.

``filters``: how the next token is chosen (SamplingOptions); ``decode``: the sampling loop and
the thread heuristic (few_threads); ``beam``: beam search; ``forms``: forms such as AAB;
``generate``: prime -> samples -> files + summary.json; ``continuation``: continuing a user's
own music file.

Imports the floors below it (``cadenza``, ``files``, ``music``, ``codecs``, ``models``,
``training``), never ``evaluation``, ``render`` or ``cli``. Codec-specific knowledge (bars,
grid steps, prompts, constraints) is asked of the codec, never decided by its name.
"""

from cadenza.generation.beam import beam_search_ids
from cadenza.generation.continuation import continue_piece, prompt_excerpt, read_prompt
from cadenza.generation.decode import few_threads, sample_ids
from cadenza.generation.filters import SamplingOptions, choose, filter_logits
from cadenza.generation.forms import form_plan, mark_phrases, parse_form, sample_form
from cadenza.generation.generate import Sample, encode_prime, generate

__all__ = [
    "Sample", "SamplingOptions", "beam_search_ids", "choose", "continue_piece", "encode_prime", "few_threads", "filter_logits", "form_plan",
    "generate", "mark_phrases", "parse_form", "prompt_excerpt", "read_prompt", "sample_form", "sample_ids",
]
