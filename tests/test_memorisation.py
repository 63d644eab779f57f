"""The same-length memorisation baseline (issue #15): held-out excerpts as long as the samples,
so a 16-bar sample is not judged against whole pieces that have more room to quote."""

from __future__ import annotations

from types import SimpleNamespace

from cadenza.evaluation.memorisation import excerpt_memorisation, memorisation, memorisation_section
from cadenza.evaluation.training_index import TrainingIndex
from test_evaluate import piece, random_piece


def quoting(seed: int, src, a: float, b: float, head: int = 60) -> object:
    """A random piece of ``head`` onsets with the stretch [a, b) quarters of ``src`` pasted after it."""
    before = random_piece(seed, head, chords=False).notes
    end = max(n.start + n.duration for n in before)
    head = [(n.start, n.pitch, n.duration) for n in before]
    quote = [n for n in sorted(src.notes) if a <= n.start < b]
    shift = end - quote[0].start
    return piece(*head, *[(n.start + shift, n.pitch, n.duration) for n in quote])


def test_excerpts_cut_matches_at_their_end() -> None:
    train = [random_piece(s) for s in range(4)]
    for i, p in enumerate(train):
        p.name = f"t{i}"
    index = TrainingIndex(train)
    copy = train[2]
    whole = memorisation(copy, index)
    ex = excerpt_memorisation(copy, index, 30)
    assert len(ex) == whole["onsets"] // 30
    assert all(e["onsets"] == 30 and e["longest_onsets"] == 30 for e in ex)  # a copy: every excerpt is copied whole, no more
    assert [e["start_onset"] for e in ex] == [0, 30, 60, 90][: len(ex)]
    assert excerpt_memorisation(copy, index, whole["onsets"] + 1) == []  # too short for one excerpt


def test_samples_are_flagged_against_excerpts_as_long_as_they_are() -> None:
    train = [random_piece(s) for s in range(4)]
    for i, p in enumerate(train):
        p.name = f"t{i}"
    index = TrainingIndex(train)
    # three long held-out pieces quote 30 quarters of training somewhere, six quote nothing: whole
    # pieces set a high bar (any quote counts), excerpts as long as the sample a low one
    test = [SimpleNamespace(name=f"h{k}", fast=quoting(10 + k, train[k], 10.0, 40.0, head=150)) for k in range(3)]
    test += [SimpleNamespace(name=f"r{k}", fast=random_piece(50 + k, 150)) for k in range(6)]
    sample = quoting(30, train[1], 60.0, 75.0, head=8)  # a short sample, most of it quoted
    warnings: list[str] = []
    mem = memorisation_section(index, test, [(1, sample)], 4, warnings)
    assert mem["excerpt_onsets"] == mem["samples"][0]["onsets"] and mem["baseline_excerpts"]
    assert all(e["onsets"] == mem["excerpt_onsets"] for e in mem["baseline_excerpts"])
    assert mem["baseline_whole_limit_longest_notes"] >= mem["baseline_limit_longest_notes"]
    assert mem["flagged_against"].startswith("held-out excerpts")
    # its quote is longer than 9 in 10 excerpts as long hold, though not than whole pieces hold
    longest = mem["samples"][0]["longest_notes"]
    assert mem["baseline_limit_longest_notes"] < longest <= mem["baseline_whole_limit_longest_notes"]
    assert mem["flagged_samples"] == [1] and "held-out excerpts of" in warnings[0]
