"""The models the server offers, each opened once (a :class:`~cadenza.generation.run.Run`) and
shared by every request, and what the page may offer with each.

Inference never mutates a model (recurrent state is passed in and out), so one module serves
all worker threads at once; only the first load is serialised.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cadenza import CadenzaError

if TYPE_CHECKING:
    from cadenza.generation.run import Run


def jams(run: Run) -> bool:
    """Whether notes can be streamed as they are sampled: each token says at once what sounds
    (notewise words: strike, release, wait); characters of kern or chordwise steps do not."""
    return run.codec.can("stream")


def describe(run: Run) -> dict[str, Any]:
    """What the page may offer with ``run``."""
    from cadenza.web.plain import plain

    codec, ctx = run.codec, run.context
    metre, key = codec.usual_metre_key(ctx)
    return {
        "name": run.name,
        "codec": run.config["codec"],
        "about": plain(run.info.get("trained_on", ""), limit=None),  # written for `cadenza models`: no flags here
        "licence": run.info.get("licence", ""),
        # a played or uploaded MIDI file: MIDI codecs read it into words, kern writes it as a score first
        "continues": codec.can("continue") and ".mid" in codec.prompt_suffixes,  # type: ignore[attr-defined]
        "jam": jams(run),
        "form": True,
        "metre_key": codec.can("metre_key"),  # kern: --metre/--key
        # rewrite bars of an uploaded file (cadenza infill): a model trained with --fim-rate
        "infills": run.infills,
        "bars_are_grid": codec.bar_token is None,
        "metre": str(metre) if metre else None,
        "key": str(key) if key else None,
        "tempo": ctx.get("tempo"),
        # what a new piece can be asked to be like (composer, style, instrument): the labels it was prepared with
        "labels": run.labels,
        # a progression bar by bar (POST /api/generate ``chords``): a model prepared with --condition chords
        "chords": codec.can("chords") and bool((run.config.get("codec_options") or {}).get("chords")),
    }


class ModelStore:
    """``names``: bundled model names or run folders (``cadenza serve --model``); all bundled
    models when empty. Names are checked now, weights loaded on first use."""

    def __init__(self, names: list[str] | None = None):
        from cadenza.models.pretrained import available, resolve

        bundled = available()
        names = list(names or []) or sorted(bundled)
        self.runs: dict[str, Path] = {}
        self.info: dict[str, dict[str, Any]] = {}
        for name in names:
            run = Path(resolve(name))
            if not (run / "config.json").is_file():
                raise CadenzaError(f"--model {name}: not a bundled model ({', '.join(sorted(bundled))}) nor a run folder")
            key = name if name in bundled else run.name
            self.runs[key] = run
            self.info[key] = bundled.get(name, {})
        self.default = next((n for n in self.runs if n == "piano-notewise"), next(iter(self.runs)))
        self._loaded: dict[str, Run] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return list(self.runs)

    def get(self, name: str | None) -> Run:
        name = name or self.default
        if name not in self.runs:
            raise CadenzaError(f"unknown model {name!r}; this server offers: {', '.join(self.runs)}")
        with self._lock:
            if name not in self._loaded:
                from cadenza.generation.run import open_run

                run = replace(open_run(self.runs[name]), name=name, info=self.info[name])
                _ = run.model  # the weights, read now: every request shares them
                self._loaded[name] = run
            return self._loaded[name]

    def ready(self, name: str | None) -> Run | None:
        """The model if it is loaded already (no lock, no thread): a jam reply's first step
        should not wait for a thread hop to look it up."""
        return self._loaded.get(name or self.default)

    def describe(self) -> list[dict[str, Any]]:
        return [describe(self.get(n)) for n in self.runs]

    def jam_default(self) -> str:
        """The model jam mode uses when the page names none: the default if it can jam."""
        return next((n for n in [self.default, *self.runs] if jams(self.get(n))), self.default)

    def warm(self) -> None:
        """Load every model, so the first request pays no start-up."""
        for name in self.runs:
            self.get(name)

    def warm_jam(self) -> None:
        """Answer a short phrase with the jam model the whole way a reply goes (reading the
        phrase, the codec's note reader, sampling); run in the jam worker's own thread, so the
        first reply pays for no import, thread or first call (it came 30-45 ms later than the
        rest, and set the p95)."""
        from cadenza.generation import SamplingOptions
        from cadenza.generation.stream import stream_notes

        jam = self.get(self.jam_default())
        if jams(jam):
            for _ in stream_notes(jam, [(0.0, 60, 0.2, 80), (0.25, 64, 0.2, 80), (0.5, 67, 0.2, 80)], 1, SamplingOptions(), 0, max_tokens=200):
                pass
