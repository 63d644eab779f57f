"""The spine structure check that guards verovio and the kern codec's cleaning: which spine each
column lies in after splits and merges, and one line naming the place of each fault."""

from __future__ import annotations

import pytest

from cadenza import CadenzaError
from cadenza.music.humdrum.structure import check_spines, walk
from conftest import shared


def test_columns_follow_splits_merges_and_the_end():
    text = "**kern\t**dynam\n*^\t*\n4c\t4e\tp\n*v\t*v\t*\n4d\t.\n*-\t*-\n!! a closing comment\n"
    got = [(ln.number, ln.spines, ln.after) for ln in walk(text)]
    assert got == [(1, ["**kern", "**dynam"], ["**kern", "**dynam"]),
                   (2, ["**kern", "**dynam"], ["**kern", "**kern", "**dynam"]),
                   (3, ["**kern", "**kern", "**dynam"], ["**kern", "**kern", "**dynam"]),
                   (4, ["**kern", "**kern", "**dynam"], ["**kern", "**dynam"]),
                   (5, ["**kern", "**dynam"], ["**kern", "**dynam"])]


@pytest.mark.parametrize("text, message", [
    ("4c\n", "x.krn:1: no exclusive interpretation (**kern) before the music"),
    ("**kern\t**kern\n4c\n", "x.krn:2: 1 columns where 2 spines are active"),
    ("**kern\t**kern\n*x\t*\n", "x.krn:2: unpaired spine exchange *x"),
    ("**kern\n4c\n*-\n4d\n", "x.krn:4: music after all spines ended"),
])
def test_a_broken_structure_is_one_line_naming_the_place(text, message):
    with pytest.raises(CadenzaError) as info:
        check_spines(text, "x.krn")
    assert str(info.value) == message


def test_every_beethoven_sonata_movement_is_sound():
    files = sorted(shared("corpora", "beethoven-piano-sonatas").glob("*.krn"))
    for f in files:
        check_spines(f.read_text(encoding="utf-8", errors="replace"), str(f))
    assert len(files) > 30
