"""``cadenza adapt``: a bundled model fine-tuned on a corpus it never saw, measured on held-out pieces."""

from __future__ import annotations

import pytest

from cadenza import CadenzaError
from cadenza.adapt import AdaptOptions, adapt
from conftest import shared


@pytest.mark.slow
def test_adapt_fine_tunes_and_measures_on_pieces_it_held_out(tmp_path):
    from cadenza.data import load_pieces
    from cadenza.evaluation.likelihood import heldout_bits
    from cadenza.training import load_run

    src = shared("corpora", "chopin-preludes")
    said: list[str] = []
    rep = adapt([src], tmp_path / "mine", "mozart-kern", AdaptOptions(minutes=0.4, threads=1, transpose="-1,1", eval_every=10), say=said.append)
    # what it could not use is said, with why: the folder's README, and preludes in a layout mozart-kern does not write
    assert any(m.startswith("skipped 5 file(s)") and "README-chopin-preludes.md: not a" in m and "prelude28-01.krn: 4 **kern spines" in m for m in said), said
    rows = load_pieces(rep.dataset)
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    assert not {r["group"] for r in rows if r["split"] == "test"} & {r["group"] for r in rows if r["split"] == "train"}
    assert rep.pieces["test"] == sum(1 for r in rows if r["split"] == "test") >= 1
    assert rep.pieces["train"] == sum(1 for r in rows if r["split"] == "train" and r["transpose"] == 0)
    assert (tmp_path / "mine" / "model" / "best.safetensors").is_file()
    # the fine-tune's figure is the evaluation's own reading of the same test pieces (none unknown to it)
    model, config = load_run(tmp_path / "mine" / "model")
    own = heldout_bits(model, config, rep.dataset)
    if rep.unknown_to_base == 0:
        assert rep.tuned_bits == pytest.approx(own["bits_per_token"], rel=1e-6)
    assert rep.test_tokens + rep.unknown_to_base == own["tokens"]
    assert config["train"]["learning_rate"] == pytest.approx(3e-3)  # mozart-kern trained at 1e-3: its fine-tune peaks at three times that
    assert any("peak learning rate 0.003" in m for m in said)
    assert rep.tuned_bits < rep.base_bits  # Chopin read better after fine-tuning on Chopin
    assert rep.gain == pytest.approx(1 - rep.tuned_bits / rep.base_bits)
    # per note: the same bits over the test pieces' notes (music21 counts them as evaluate does)
    assert rep.notes > 100
    assert rep.tuned_bits_per_note == pytest.approx(rep.tuned_bits * rep.test_tokens / rep.notes)
    assert rep.tuned_bits_per_note < rep.base_bits_per_note
    assert 0 < rep.base_overlap <= 1 and 0 < rep.tuned_overlap <= 1  # the samples' features against the test pieces'


def test_the_fine_tune_rate_is_three_times_an_lstm_bases_own_at_most_1e_2():
    from cadenza.adapt import auto_rate, rate_for

    assert auto_rate({"arch": "lstm"}, {"learning_rate": 2e-3}) == pytest.approx(6e-3)
    assert auto_rate({"arch": "lstm"}, {"learning_rate": 5e-3}) == pytest.approx(1e-2)
    assert auto_rate({"arch": "transformer"}, {"learning_rate": 6e-4}) == pytest.approx(6e-4)
    assert rate_for("kern-base") == pytest.approx(6e-3)  # trained at 2e-3
    assert rate_for("kern-base", AdaptOptions(learning_rate=1e-4)) == 1e-4  # asked for: taken as it is
    assert rate_for("kern-small") == pytest.approx(9e-3)  # trained at 3e-3


def test_the_default_base_is_the_bundled_small_model_of_every_score():
    import inspect

    from cadenza.adapt import DEFAULT_BASE, adapt as adapt_fn
    from cadenza.cli.adapt import adapt as command
    from cadenza.models.pretrained import available

    info = available()[DEFAULT_BASE]
    assert info["codec"] == "kern" and info["params"] < 500_000 and "every-score" in info["trained_on"]
    assert inspect.signature(adapt_fn).parameters["base"].default == DEFAULT_BASE
    assert inspect.signature(command).parameters["base"].default.default == DEFAULT_BASE


@pytest.mark.slow
def test_adapt_works_for_midi_from_the_notewise_model(tmp_path):
    src = shared("midi", "nottingham-folk", "MIDI")
    files = sorted(src.glob("*.mid"))[:12]  # folk tunes with their chords: music piano-notewise never read
    rep = adapt(files, tmp_path / "mine", "piano-notewise", AdaptOptions(minutes=1.0, threads=1, transpose=None, eval_every=10, samples=2))
    assert rep.pieces["test"] >= 1 and (tmp_path / "mine" / "model" / "best.safetensors").is_file()
    assert rep.test_tokens > 0 and rep.notes > 0 and rep.tuned_bits < rep.base_bits
    assert rep.base_overlap is not None and rep.tuned_overlap is not None


def test_adapt_refuses_what_it_cannot_use(tmp_path, palestrina_paths):
    (tmp_path / "notes.txt").write_text("not music")
    with pytest.raises(CadenzaError, match="no usable pieces"):
        adapt([tmp_path / "notes.txt"], tmp_path / "run", "mozart-kern", AdaptOptions(minutes=0.01))
    with pytest.raises(CadenzaError, match="at least 3"):
        adapt([str(p) for p in palestrina_paths[:1]], tmp_path / "run2", "bach-notewise", AdaptOptions(minutes=0.01))
    with pytest.raises(CadenzaError, match="nowhere"):
        adapt([str(palestrina_paths[0])], tmp_path / "run3", "nowhere", AdaptOptions(minutes=0.01))


def test_adapt_command_fails_in_one_line(tmp_path):
    import subprocess
    import sys

    (tmp_path / "notes.txt").write_text("not music")
    r = subprocess.run([sys.executable, "-m", "cadenza", "adapt", str(tmp_path / "notes.txt"), "-o", str(tmp_path / "run"), "--minutes", "0.1"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    lines = [x for x in r.stderr.strip().splitlines() if x.strip() and "preparing" not in x]
    assert len(lines) == 1 and "no usable pieces" in lines[0], r.stderr
