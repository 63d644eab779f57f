"""Training options: char-rnn's names for the 2015 recipe, nanoGPT's for the transformer."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from cadenza import CadenzaError

# Options that change what the weights become: resuming with other values would silently mix two
# different runs, so it is refused unless the user says it is deliberate (``force_resume``).
TRAJECTORY = ("arch", "rnn_size", "num_layers", "n_head", "seq_length", "batch_size", "grad_accum", "learning_rate", "schedule", "warmup_steps",
              "learning_rate_decay", "learning_rate_decay_after", "weight_decay", "dropout", "grad_clip", "seed", "fim_rate", "fim_format", "stateful", "init_from")


@dataclass(frozen=True)
class TrainConfig:
    """char-rnn's options (same names, kebab-case on the command line), plus the transformer's.

    ``schedule``: ``char-rnn`` (constant, then ×``learning_rate_decay`` per epoch after
    ``learning_rate_decay_after`` epochs, and to a tenth over the last quarter of ``max_minutes``:
    the LSTM recipe) or ``cosine`` (linear warm-up, then a
    cosine down to a tenth: the transformer recipe); ``auto`` picks by architecture.
    ``stateful``: ``None`` picks: an LSTM trained from scratch reads char-rnn's carried-state
    streams, as the test pieces are read (whole, the state carried); random zero-state windows
    spend half of each 50-token window on the key/metre prefix and lose to the 2015 recipe (issue
    #20, benchmarks/results/recipe_from_scratch.json). Fine-tuning (``init_from``, ``adapt``) and
    the transformer keep random windows unless asked.
    ``batch_size`` is per process and per micro-step: the global batch is
    ``batch_size × grad_accum × processes``.
    """

    rnn_size: int = 128  # LSTM hidden size / transformer width (--d-model)
    num_layers: int = 3
    dropout: float = 0.05  # char-rnn's 2015 recipe; a preset or --init-from brings its own
    seq_length: int = 50  # the transformer's --context
    batch_size: int = 50
    learning_rate: float = 0.0  # 0: auto (an LSTM from scratch 3e-3, which wins at 3 minutes: issue #20; else 2e-3)
    learning_rate_decay: float = 0.97
    learning_rate_decay_after: int = 10  # epochs
    grad_clip: float = 5.0
    max_epochs: float = 50.0
    max_steps: int = 0  # 0: from max_epochs
    eval_every: int = 200
    eval_batches: int = 20
    seed: int = 123
    arch: str = "lstm"
    n_head: int = 4
    block_size: int = 0  # kept for old configs: a transformer's context is its seq_length
    max_minutes: float = 0.0  # 0: no time limit; else stop (with a checkpoint) after this long in all, resumed sessions included
    threads: int = 0  # 0: one for a small model on a CPU, else torch's default (training/threads.py)
    schedule: str = "auto"  # auto | char-rnn | cosine
    warmup_steps: int = -1  # -1: auto (cosine: 5% of the steps, at most 500)
    weight_decay: float = -1.0  # -1: auto (LSTM 0, as char-rnn; transformer 0.1, as nanoGPT)
    grad_accum: int = 1
    device: str = "auto"  # auto | cpu | cuda | mps
    compile: bool = False
    fim_rate: float = 0.0  # share of training windows rearranged to fill in the middle (codecs/fim.py)
    stateful: bool | None = None  # char-rnn's batches: parallel streams, the LSTM's state carried across steps (None: an LSTM's from scratch)
    fim_format: str = "spm"  # spm: <suffix> C <prefix> A B <end>; psm: <prefix> A <suffix> C <middle> B <end>
    init_from: str = ""  # fine-tune: start from this run's or bundled model's weights (training/warm_start.py)

    def resolved(self) -> "TrainConfig":
        """The automatic choices made explicit (what config.json records)."""
        if self.arch not in ("lstm", "transformer"):
            raise CadenzaError(f"unknown architecture {self.arch!r}; choose lstm or transformer")
        schedule = self.schedule if self.schedule != "auto" else ("char-rnn" if self.arch == "lstm" else "cosine")
        if schedule not in ("char-rnn", "cosine"):
            raise CadenzaError(f"--schedule must be char-rnn, cosine or auto, not {self.schedule!r}")
        if self.arch == "transformer" and self.rnn_size % self.n_head:
            raise CadenzaError(f"--d-model {self.rnn_size} is not divisible by --heads {self.n_head}")
        if self.arch == "transformer" and (self.rnn_size // self.n_head) % 2:
            raise CadenzaError(f"rotary positions need an even head width: --d-model {self.rnn_size} / --heads {self.n_head} is odd")
        for name in ("rnn_size", "num_layers", "seq_length", "batch_size", "grad_accum", "eval_every"):
            if getattr(self, name) < 1:
                raise CadenzaError(f"--{name.replace('_', '-')} must be at least 1")
        if not 0 <= self.dropout < 1:
            raise CadenzaError("--dropout must be in [0, 1)")
        if not 0 <= self.fim_rate <= 1:
            raise CadenzaError("--fim-rate must be in [0, 1]")
        stateful = self.stateful if self.stateful is not None else (self.arch == "lstm" and not self.init_from)
        if stateful and self.arch != "lstm":
            raise CadenzaError("--stateful carries an LSTM's state from batch to batch; a transformer has none")
        if self.fim_format not in ("spm", "psm"):
            raise CadenzaError(f"--fim-format must be spm or psm, not {self.fim_format!r}")
        wd = self.weight_decay if self.weight_decay >= 0 else (0.0 if self.arch == "lstm" else 0.1)
        lr = self.learning_rate if self.learning_rate > 0 else (3e-3 if self.arch == "lstm" and not self.init_from else 2e-3)
        return dataclasses.replace(self, schedule=schedule, weight_decay=wd, stateful=stateful, learning_rate=lr, block_size=self.seq_length if self.arch == "transformer" else self.block_size)


def trajectory_changes(old: dict, new: dict) -> list[str]:
    """The trajectory options that differ between a saved run and a new request."""
    return [f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in TRAJECTORY if k in old and old.get(k) != new.get(k)]


def source_config(source: str) -> tuple[Path, dict]:
    """The run folder and config of ``--init-from`` (a run folder or a bundled model's name)."""
    from cadenza.models.pretrained import resolve
    from cadenza.training.checkpoint import read_config

    try:
        folder = resolve(source)
    except CadenzaError as exc:
        raise CadenzaError(f"--init-from: {exc}") from None
    return folder, read_config(folder)


def config_for(preset: str | None = None, init_from: str | None = None, **options: object) -> TrainConfig:
    """The one way a run's options are put together (``cadenza train``, ``adapt``,
    :func:`~cadenza.training.fine_tune_config`): the model's shape from a named transformer
    ``preset`` or from the run being fine-tuned (``init_from``: its architecture, size and
    dropout), then ``options`` on top; an option given as ``None`` is one the user left out.
    A size given that differs from the source's is refused later, by the warm start, in one line."""
    from cadenza.models.config import PRESETS

    shape: dict[str, object] = {}
    if preset is not None:
        if preset not in PRESETS:
            raise CadenzaError(f"unknown --preset {preset!r}; choose one of: {', '.join(PRESETS)}")
        p = PRESETS[preset]
        shape = {"arch": "transformer", "rnn_size": p.d_model, "num_layers": p.layers, "n_head": p.heads, "seq_length": p.context, "dropout": p.dropout}
    if init_from:
        m = source_config(init_from)[1]["model"]
        shape |= {"arch": m["arch"], "rnn_size": m["rnn_size"], "num_layers": m["num_layers"], "n_head": m["n_head"], "dropout": m.get("dropout", 0.0)}
    given = {k: v for k, v in options.items() if v is not None}
    return TrainConfig(**{**shape, **given, "init_from": init_from or ""})
