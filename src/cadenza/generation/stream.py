"""A reply streamed as it is sampled: :func:`stream_notes` reads a played phrase, samples the
model's answer one token at a time, and yields each note as the codec reads it (a codec with the
``stream`` capability: notewise), so a page can play the first notes while the rest is written.
Jam mode (``cadenza serve``) is its one user today."""

from __future__ import annotations

import threading
from typing import Any, Iterator

from cadenza import CadenzaError
from cadenza.codecs.base import Stream, able
from cadenza.generation.filters import choose
from cadenza.generation.request import SamplingOptions
from cadenza.generation.run import Run


def stream_notes(run: Run, played: list[tuple[float, int, float, int]], bars: float, options: SamplingOptions, seed: int,
                 stop: threading.Event | None = None, max_tokens: int = 3000) -> Iterator[dict[str, Any]]:
    """Answer ``played`` (notes as (start, pitch, duration) in seconds and velocity) with a reply
    of ``bars`` bars: yields ``on`` / ``off`` events (seconds from the reply's first note), then
    ``end`` with the notes, tokens and seconds written. ``stop`` ends it early."""
    import torch

    codec, vocab, model = run.codec, run.vocab, run.model
    if not codec.can("stream"):
        raise CadenzaError(f"{run} cannot jam: choose a notewise model")
    streams = able(codec, "stream", Stream)
    words, _ = streams.fit_prompt(streams.encode_piece(streams.played(played, run.context)), vocab, "the phrase")
    stoi = {w: i for i, w in enumerate(vocab)}
    ids = [stoi[w] for w in words]
    reader = streams.note_stream(run.context, bars)
    gen = torch.Generator().manual_seed(seed)
    count = tokens = 0
    with torch.no_grad():
        logits, state = model(torch.tensor([ids], dtype=torch.long), model.init_state(1))
        last = logits[:, -1]
        for tokens in range(1, max_tokens + 1):
            if (stop is not None and stop.is_set()) or reader.finished:
                break
            tok = choose(last, options, gen)
            for event in reader.read(vocab[int(tok)]):
                count += event["type"] == "on"
                yield event
            logits, state = model(tok.view(1, 1), state)
            last = logits[:, -1]
    yield from reader.close()
    yield {"type": "end", "notes": count, "tokens": tokens, "seconds": reader.time(reader.now)}
