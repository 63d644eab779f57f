"""The models the server offers, each loaded once and shared by every request.

Inference never mutates a model (recurrent state is passed in and out), so one module serves
all worker threads at once; only the first load is serialised.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cadenza import CadenzaError


@dataclass
class LoadedModel:
    """A model, its run config and codec, and what the page may offer with it."""

    name: str
    run: Path
    model: Any
    config: dict[str, Any]
    codec: Any
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def vocab(self) -> list[str]:
        return self.config["vocab"]

    @property
    def context(self) -> dict[str, Any]:
        return self.config.get("context", {})

    @property
    def jams(self) -> bool:
        """Whether notes can be streamed as they are sampled: notewise words (strike, release,
        wait) each say at once what sounds; characters of kern or chordwise steps do not."""
        from cadenza.codecs.notewise import NotewiseCodec

        return isinstance(self.codec, NotewiseCodec)

    def describe(self) -> dict[str, Any]:
        from cadenza.codecs.fim import can_infill
        from cadenza.web.plain import plain

        ctx = self.context
        metre = ctx.get("time_signature")
        header = ctx.get("header") or {}
        return {
            "name": self.name,
            "codec": self.config["codec"],
            "about": plain(self.info.get("trained_on", ""), limit=None),  # written for `cadenza models`: no flags here
            "licence": self.info.get("licence", ""),
            # a played or uploaded MIDI file: MIDI codecs read it into words, kern writes it as a score first
            "continues": callable(getattr(self.codec, "encode_piece", None)) or ".mid" in getattr(self.codec, "prompt_suffixes", ()),
            "jam": self.jams,
            "form": True,
            "metre_key": getattr(self.codec, "condition", None) is not None,  # kern: --metre/--key
            # rewrite bars of an uploaded file (cadenza infill): a model trained with --fim-rate
            "infills": can_infill(self.vocab, self.codec.unit) and callable(getattr(self.codec, "infill_parts", None)),
            "bars_are_grid": self.codec.bar_token is None,
            "metre": f"{metre[0]}/{metre[1]}" if metre else (header.get("meter") or "").removeprefix("*M") or None,
            "key": (header.get("key") or "").strip("*:") or None,
            "tempo": ctx.get("tempo"),
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
        self._loaded: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return list(self.runs)

    def get(self, name: str | None) -> LoadedModel:
        name = name or self.default
        if name not in self.runs:
            raise CadenzaError(f"unknown model {name!r}; this server offers: {', '.join(self.runs)}")
        with self._lock:
            if name not in self._loaded:
                from cadenza.codecs import get_codec
                from cadenza.training import load_run

                model, config = load_run(self.runs[name])
                codec = get_codec(config["codec"], config["codec_options"])
                self._loaded[name] = LoadedModel(name, self.runs[name], model, config, codec, self.info[name])
            return self._loaded[name]

    def describe(self) -> list[dict[str, Any]]:
        return [self.get(n).describe() for n in self.runs]

    def jam_default(self) -> str:
        """The model jam mode uses when the page names none: the default if it can jam."""
        return next((n for n in [self.default, *self.runs] if self.get(n).jams), self.default)

    def warm(self) -> None:
        """Load every model and run the jam model once, so the first request pays no start-up."""
        import torch

        for name in self.runs:
            self.get(name)
        jam = self.get(self.jam_default())
        if jam.jams:
            with torch.no_grad():
                jam.model(torch.zeros(1, 8, dtype=torch.long), jam.model.init_state(1))
