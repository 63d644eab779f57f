"""Transitional: generation moved to :mod:`cadenza.generation`; old imports keep working."""

from cadenza.generation import (  # noqa: F401
    Sample,
    SamplingOptions,
    beam_search_ids,
    choose,
    continue_piece,
    encode_prime,
    few_threads,
    filter_logits,
    form_plan,
    generate,
    mark_phrases,
    parse_form,
    prompt_excerpt,
    read_prompt,
    sample_form,
    sample_ids,
)
from cadenza.generation.generate import write_samples  # noqa: F401
