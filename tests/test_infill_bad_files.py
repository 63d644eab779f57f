"""Files `cadenza infill` let through or refused wrongly (issue #24), written here as they were.

A MIDI infill whose model would end the middle at once (0.5 of 16 quarters written, 3 notes
where the original had 91): the end sentinel is held back until the range is filled, in the
numpy loop and the torch loop alike; a model that never fills it gets a one-line error. A kern
file with a character the model never saw in a line it does not need (``*MM108``) is read as
`generate --prompt` reads it: the character dropped, the file not refused."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from cadenza import CadenzaError
from cadenza.music import Note, Piece, Track, write_midi


def _scale_file(path: Path, bars: int = 12) -> Path:
    """Two piano hands in 4/4 at 100 a minute, a quarter-note scale over a held bass: every bar full."""
    right = [Note(float(q), 60 + (0, 2, 4, 5, 7, 9, 11, 12)[q % 8], 1.0) for q in range(4 * bars)]
    left = [Note(float(4 * b), 48, 4.0) for b in range(bars)]
    write_midi(Piece([Track("Right", 0, right), Track("Left", 0, left)], [(0.0, 100.0)], [(0.0, 4, 4)], path.stem), path)
    return path


class _TorchOnly(torch.nn.Module):
    """The same network without its numpy step, so the torch sampling loop runs."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.inner = model

    def init_state(self, n: int):
        return self.inner.init_state(n)

    def forward(self, x, state=None):
        return self.inner(x, state)


def _biased(word: str, by: float = 40.0):
    """The bundled piano-notewise model with ``word`` made by far its likeliest next word."""
    from cadenza.generation.run import open_run

    base = open_run("piano-notewise")
    model = copy.deepcopy(base.model)
    with torch.no_grad():
        model.head.bias[base.vocab.index(word)] += by
    return model, base.config


@pytest.mark.parametrize("loop", ["numpy", "torch"])
def test_an_early_end_is_held_until_the_middle_fills_the_bars(tmp_path, loop):
    from cadenza.codecs.fim import ROLES, fim_prime, sentinel
    from cadenza.generation import SamplingOptions, sample_ids
    from cadenza.generation.infill import infill
    from cadenza.generation.run import loaded_run
    from cadenza.music.reader import read_piece_file

    model, config = _biased("<fim:end>")
    if loop == "torch":
        model = _TorchOnly(model)
    run = loaded_run(model, config, tmp_path / "end-first")
    src = _scale_file(tmp_path / "scale.mid")
    parts = run.codec.infill_parts(src, 5, 8, run.vocab, run.context, 2, 2)
    assert parts.units == 4 * 4 * 12  # four bars of 4/4 on the 12-step grid
    # the control: unheld, this model ends the middle with its first word
    stoi = {t: i for i, t in enumerate(run.vocab)}
    prime = [stoi[t] for t in fim_prime(parts.prefix, parts.suffix, {r: sentinel(r, "word") for r in ROLES}, "psm")]
    assert [run.vocab[t] for t in sample_ids(model, prime, 2, 4, SamplingOptions(), seed=0)[0]][0] == "<fim:end>"

    samples = infill(run, src, (5, 8), tmp_path / "out", n=2, seed=0)
    before = read_piece_file(src)
    for s in samples:
        assert run.codec.reach(s.text.split()) == parts.units  # the middle's words reach the range's end
        assert s.stats["forced_steps"] >= 1 and s.stats["tries"] == 1 and s.stats["range_quarters"] == 16.0
        after = read_piece_file(s.files["mid"])
        outside = [n for n in after.notes if not 16.0 <= n.start < 32.0]
        assert outside == [n for n in before.notes if not 16.0 <= n.start < 32.0]
        assert s.stats["notes_written"] == sum(1 for n in after.notes if 16.0 <= n.start < 32.0)


def test_a_middle_that_never_fills_the_bars_is_reported_in_one_line(tmp_path):
    """A model that only strikes one key (never a wait) runs out of words each round: refused,
    naming the file, after the rounds the sampler allows."""
    from cadenza.generation.infill import ROUNDS, infill
    from cadenza.generation.run import loaded_run

    model, config = _biased("p40")
    src = _scale_file(tmp_path / "scale.mid")
    with pytest.raises(CadenzaError) as err:
        infill(loaded_run(model, config, tmp_path / "one-key"), src, (5, 8), tmp_path / "out", n=1, seed=0)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{src}: 1 of 1 infill(s) failed after {ROUNDS} tries")
    assert "the middle stopped before bar 8 was complete (0 of 192 grid steps)" in msg


KERN = """**kern\t**kern
*clefF4\t*clefG2
*k[]\t*k[]
*M4/4\t*M4/4
=1\t=1
4C\t4c
4D\t4d
4E\t4e
4F\t4f
=2\t=2
*MM108\t*MM108
4G\t4g
4A\t4a
4B\t4b
4c\t4cc
=3\t=3
1C\t1c
=4\t=4
1G\t1g
=5\t=5
1C\t1c
==\t==
*-\t*-
"""


def test_a_character_the_model_never_saw_is_dropped_as_generate_drops_it(tmp_path):
    """mozart-kern never saw a 0: the tempo line ``*MM108`` before the range once refused the
    file; now infill drops the character from what the model reads, as `generate --prompt`
    does, and the file written keeps the user's line as it was."""
    from cadenza.generation import continue_piece
    from cadenza.generation.infill import infill
    from cadenza.generation.run import open_run

    assert "0" not in open_run("mozart-kern").vocab
    src = tmp_path / "tempo.krn"
    src.write_text(KERN, encoding="utf-8")
    s = infill("mozart-kern", src, (3, 3), tmp_path / "out", n=1, seed=0, formats=("krn",))[0]
    assert s.stats["prompt_tokens_dropped"] == 2  # the 0 of each spine's *MM108
    got = s.files["krn"].read_text(encoding="utf-8").split("\n")
    lines = KERN.split("\n")
    assert got[: lines.index("=3\t=3") + 1] == lines[: lines.index("=3\t=3") + 1]  # *MM108 as written
    assert got[-len(lines) + lines.index("=4\t=4") :] == lines[lines.index("=4\t=4") :]
    assert continue_piece("mozart-kern", src, tmp_path / "cont", n=1, seed=0, length=40, prompt_bars=4)[0].files["krn"].exists()
