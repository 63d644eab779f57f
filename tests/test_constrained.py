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
