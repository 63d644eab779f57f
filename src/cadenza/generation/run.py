"""A trained model, opened once and passed on as one value: ``open_run(name_or_path) -> Run``.

Every command that uses a trained model (generate, continue, infill, compose, evaluate, render
of token text, the web page) opens it here: the bundled name or run folder is resolved, its
``config.json`` read and its codec built once; the weights are read when first used (rendering a
sample's token text needs the codec, not the network). An LSTM is sampled from its weights read
into numpy (``sampler``), so opening and sampling a run loads no torch; the torch network
(``model``) is read for beams, transformers, training and scoring. The web shares one Run between
its worker threads: inference never changes a model, and the first read of the weights is locked.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cadenza.codecs import Codec, codec_of
from cadenza.codecs.fim import can_infill
from cadenza.codecs.labels import known_labels


@dataclass(frozen=True, eq=False)
class Run:
    """A trained model: ``path`` (its run folder), ``config`` (``config.json``), ``codec``, and,
    for a bundled model, ``name`` and ``info`` (its ``MODEL.json``). ``model`` is the network
    (``best`` weights, or ``which``), ``sampler`` what sampling runs, each read on first use."""

    path: Path
    config: dict[str, Any]
    codec: Codec
    name: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    which: str = "best"
    _loaded: list[Any] = field(default_factory=list, repr=False)
    _numpy: list[Any] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def model(self) -> Any:
        """The network (a ``torch.nn.Module`` in eval mode), read once."""
        with self._lock:
            if not self._loaded:
                from cadenza.training import load_run

                model, _ = load_run(self.path, self.which)
                self._loaded.append(model)
            return self._loaded[0]

    @property
    def sampler(self) -> Any:
        """What :func:`~cadenza.generation.decode.sample_ids` samples: an LSTM's weights read
        straight into numpy (:class:`~cadenza.models.numpy_lstm.NumpyLSTM`, no torch), else the
        network (a network already in memory is sampled as it is)."""
        from cadenza.models import ModelConfig

        cfg = ModelConfig.from_dict(self.config["model"])
        if cfg.arch != "lstm" or self._loaded:
            return self.model
        with self._lock:
            if not self._numpy:
                from cadenza.models.numpy_lstm import NumpyLSTM
                from cadenza.models.run_folder import weights_file

                self._numpy.append(NumpyLSTM.read(weights_file(self.path, self.which), cfg))
            return self._numpy[0]

    @property
    def vocab(self) -> list[str]:
        return self.config["vocab"]

    @property
    def context(self) -> dict[str, Any]:
        """What decoding generated text needs and the text lacks (see ``Codec.generation_context``)."""
        return self.config.get("context", {}) or {}

    @property
    def labels(self) -> dict[str, list[str]]:
        """The conditioning labels the model knows, by kind (``{"composer": [...]}``; {} for none)."""
        return known_labels(self.context)

    @property
    def infills(self) -> bool:
        """Whether it rewrites bars of a file: trained to fill in the middle, with a codec that can."""
        return can_infill(self.vocab, self.codec.unit) and self.codec.can("infill")

    def __str__(self) -> str:
        return self.name or str(self.path)


def open_run(run: Run | str | Path, which: str = "best") -> Run:
    """The run folder or bundled model ``run`` (a :class:`Run` is returned as it is)."""
    if isinstance(run, Run):
        return run
    from cadenza.models.pretrained import available, resolve
    from cadenza.models.run_folder import read_config

    path = resolve(run)
    config = read_config(path)
    info = available().get(str(run), {})
    info = dict(info) if info.get("path") and Path(info["path"]) == Path(path) else {}  # a bundled model's MODEL.json
    return Run(path, config, codec_of(config), str(run), info, which)


def loaded_run(model: Any, config: dict[str, Any], path: Path | str = "") -> Run:
    """A Run around a network already in memory (a benchmark's, a test's, a training loop's)."""
    run = Run(Path(path), config, codec_of(config))
    run._loaded.append(model)
    return run
