"""Constrained kern sampling: every sample parses and every complete bar fills its metre."""

from __future__ import annotations

import pytest

from cadenza.evaluation.validity import kern_validity
from cadenza.generation import SamplingOptions, generate


@pytest.mark.slow
def test_fifty_constrained_samples_are_all_valid(tmp_path, tiny_run):
    samples = []
    for k, temp in enumerate((0.8, 1.0, 1.5)):
        n = 17 if k < 2 else 16
        samples += generate(tiny_run, tmp_path / f"t{k}", n=n, bars=4, seed=100 + k, options=SamplingOptions(temperature=temp), formats=("krn",))
    assert len(samples) == 50
    for s in samples:
        assert s.stats["constrained"] and s.stats.get("lines_repaired", 0) == 0 and s.stats.get("lines_dropped", 0) == 0, s.stats
        v = kern_validity(s.files["krn"].read_text())
        assert v["parsed"], v.get("error")
        assert v["bars_ok"] == v["bars"], (s.index, v["bad_bars"])


def test_constrained_output_is_reproducible_and_counts_forced_steps(tmp_path, tiny_run):
    a = generate(tiny_run, tmp_path / "a", n=2, bars=2, seed=5, formats=("krn",))
    b = generate(tiny_run, tmp_path / "b", n=2, bars=2, seed=5, formats=("krn",))
    assert [x.text for x in a] == [x.text for x in b]
    assert all(isinstance(x.stats["forced_steps"], int) for x in a)


def test_unconstrained_flag_turns_the_checker_off(tmp_path, tiny_run):
    s = generate(tiny_run, tmp_path, n=1, length=200, seed=1, constrained=False, formats=("krn",))
    assert s[0].stats["constrained"] is False


def test_invalid_prime_is_a_clear_error(tmp_path, tiny_run):
    from cadenza import CadenzaError

    with pytest.raises(CadenzaError, match="not valid kern"):
        generate(tiny_run, tmp_path, prime="@\n4c\n", length=20)  # one token where 4 spines need 4


def test_constraints_work_with_beam_search_and_form(tmp_path, tiny_run):
    s = generate(tiny_run, tmp_path / "beam", n=1, bars=2, beam=3, seed=2, formats=("krn",))
    v = kern_validity(s[0].files["krn"].read_text())
    assert v["parsed"] and v["bars_ok"] == v["bars"]
    f = generate(tiny_run, tmp_path / "form", n=1, form="AAB", phrase_bars=1, seed=2, formats=("krn",))
    v = kern_validity(f[0].files["krn"].read_text())
    assert v["parsed"] and v["bars_ok"] == v["bars"]


def test_a_prime_may_hold_every_shape_the_sampler_may_write():
    """Issue #24: a form re-primed with a phrase the sampler wrote through its escape (a shape no
    corpus piece writes, allowed where no corpus shape fitted) was refused as a prime. A prime is
    read with the lenient grammar; what the sampler writes next still keeps to the corpus's shapes."""
    import json

    import numpy as np

    from cadenza.codecs.kern.constraint import KernConstraint
    from cadenza.codecs.kern.shapes import MOZART
    from cadenza.music.metre_key import Metre
    from cadenza.models.pretrained import resolve

    config = json.loads((resolve("mozart-kern") / "config.json").read_text())
    vocab = config["vocab"]
    odd = "<(4c"  # a slur opened after a placement mark: a shape the Mozart table does not hold
    assert "<(" not in MOZART.note_prefix_open and all(c in vocab for c in odd)
    ctx = {"header": {"spines": 2, "clefs": ["*clefF4", "*clefG2"]}, "metre": Metre(4, 4), "shapes": MOZART.to_dict()}
    prime = "*clefF4\t*clefG2\n*k[]\t*k[]\n*M4/4\t*M4/4\n@\n" + odd + "\t4cc\n"
    con = KernConstraint(vocab, ctx, 1, prime)  # refused before: "bad token" at the "("
    # the sampler itself is still held to the corpus's shapes: the Mozart table opens no note with
    # "<" (the lenient grammar, which read the prime, does)
    from cadenza.codecs.kern.checker import KernChecker

    lenient = KernChecker(vocab, 2, (4, 4), clefs=["*clefF4", "*clefG2"])
    lenient.push_text(prime)
    assert "<" in lenient.allowed_chars()
    allowed = con.checkers[0].allowed_chars()
    assert "<" not in allowed and "4" in allowed
    assert np.asarray(con.rows()).shape[-1] == len(vocab)
