"""The generation grammar: generated kern tokens have shapes the corpus writes, so files load in
a strict, independent kern parser (kernpy, AGPL: a test-time check only, never a dependency).

kernpy is in the ``dev`` extras; only the checks that call it skip without it (``_kernpy_errors``),
so the grammar, corpus and staff checks run on every install."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from cadenza.codecs.kern import clean, read_text
from cadenza.codecs.kern.checker import KernChecker
from cadenza.codecs.kern.grammar import DEFAULT_VOCAB
from cadenza.codecs.kern.shapes import MOZART, learn_shapes
from cadenza.music.metre_key import Metre

MOZART_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "mozart-piano-sonatas"
VOCAB = [c for c in DEFAULT_VOCAB if c not in "q;"]  # as KernConstraint offers it
NEVER_WRITTEN = ["8cL\n8rJ\n", "4r/\n", "8ccLLLL\n8rJ)J)J/J\n", "8rL\n"]


def _kernpy_errors(text: str) -> list[str]:
    """kernpy's complaints about ``text``; the only place a test needs kernpy, so the only skip."""
    kernpy = pytest.importorskip("kernpy")
    try:
        _, errors = kernpy.loads(text)
    except Exception as exc:  # kernpy raises on the first token it cannot read
        return [str(exc).splitlines()[0][:160]]
    return list(errors)


def _file(tokens: str) -> str:
    return "**kern\n*clefG2\n*M4/4\n=1\n" + tokens + "\n=2\n*-\n"


def _mozart_dir() -> Path:
    if not MOZART_DIR.is_dir():
        pytest.skip("../shared/corpora/mozart-piano-sonatas not present")
    return MOZART_DIR


@pytest.mark.parametrize("text", NEVER_WRITTEN)
def test_shapes_mozart_never_writes_are_refused(text):
    lenient = KernChecker(VOCAB, 1, None)
    lenient.push_text(text)  # the lenient grammar (real files) takes them
    strict = KernChecker(VOCAB, 1, None, shapes=MOZART)
    with pytest.raises(ValueError):
        strict.push_text(text)


@pytest.mark.parametrize("text", NEVER_WRITTEN)
def test_kernpy_refuses_the_shapes_mozart_never_writes(text):
    assert _kernpy_errors(_file(text.strip().split("\n")[-1])), "kernpy accepts it: refusing it proves nothing"


def test_corpus_shapes_are_accepted():
    strict = KernChecker(VOCAB, 2, (3, 4), shapes=MOZART)
    strict.push_text("@\n(8ccL\t4C\n8ddJ\t.\n4ryy\t4r\n8ee'L\t4G\n8ff'J)\t.\n@\n")
    assert strict.bars_completed == 1


def test_a_rest_cannot_end_a_bar_inside_a_beam():
    # the lenient grammar would close the beam on the rest (8rJ); the corpus never does
    for shapes, rest in ((MOZART, False), (None, True)):
        ck = KernChecker(VOCAB, 1, (1, 4), shapes=shapes)
        ck.push_text("@\n8cL\n8")
        assert ("r" in ck.allowed_chars()) is rest


@pytest.mark.parametrize("seed", range(6))
def test_random_walks_in_the_generation_grammar_never_get_stuck(seed):
    rng = random.Random(seed)
    spines = rng.choice([1, 2, 4])
    ck = KernChecker(VOCAB, spines, rng.choice([(4, 4), (3, 4), (6, 8), (4, 2)]), shapes=MOZART)
    text = ""
    for step in range(3000):
        idx = np.flatnonzero(ck.allowed())
        assert len(idx), f"dead end at step {step}"
        ch = VOCAB[int(idx[rng.randrange(len(idx))])]
        ck.push(ch)
        text += ch
    # whatever the walk wrote, its rests carry no beams or stems
    toks = [s for line in text.split("\n") if line and line[0] not in "*@" for t in line.split("\t") for s in t.split(" ")]
    assert not [s for s in toks if "r" in s and set(s) & set("LJKk/\\")]


def test_the_table_loads_in_kernpy():
    for p in MOZART.note_prefixes:
        assert not _kernpy_errors(_file(p + "4c")), p
    for s in MOZART.note_suffixes:
        assert not _kernpy_errors(_file("4c" + s)), s
    for s in MOZART.rest_suffixes:
        assert not _kernpy_errors(_file("4r" + s)), s


def test_the_table_is_the_corpus():
    texts = [clean(read_text(p), str(p))[0] for p in sorted(_mozart_dir().glob("*.krn"))]
    learned = learn_shapes(texts)
    # every shape in the table is one Mozart writes at least three times (the table drops only
    # the few that kernpy cannot read, such as non-ASCII user signifiers)
    assert MOZART.note_suffixes <= learned.note_suffixes and MOZART.rest_suffixes <= learned.rest_suffixes
    assert MOZART.note_prefixes <= learned.note_prefixes
    assert len(learned.note_suffixes - MOZART.note_suffixes) <= 3


@pytest.fixture(scope="module")
def bundled_samples(tmp_path_factory) -> list[str]:
    """Six 8-bar samples of the bundled mozart-kern (shipped in the package: never skipped)."""
    from cadenza.generation import generate

    samples = generate("mozart-kern", tmp_path_factory.mktemp("mozart-kern"), n=6, bars=8, seed=3, metre="3/4", key="F", formats=("krn",))
    return [s.files["krn"].read_text() for s in samples]


def test_bundled_model_samples_sit_near_their_staves(bundled_samples):
    from cadenza.music.humdrum.clefs import far_share

    far = total = 0
    for text in bundled_samples:
        a, b = far_share(text)
        far, total = far + a, total + b
    assert total > 300 and far / total <= 0.005, (far, total)


def test_bundled_model_samples_load_in_kernpy(bundled_samples):
    for i, text in enumerate(bundled_samples):
        assert not _kernpy_errors(text), f"sample {i + 1}"


# ---------------------------------------------------------------------------------- clefs


def test_a_clef_change_stays_only_where_it_brings_the_notes_nearer():
    from cadenza.music.humdrum.clefs import far_share, settle_clefs

    # right hand in the treble: a bass clef before high notes is dropped (they would sit 5+
    # ledger lines above it), one before low notes is kept, and the change back after it too
    text = ("@\n4C\t4cc\n@\n*\t*clefF4\n4D\t4eee\n4E\t4ddd\n@\n*\t*clefG2\n4F\t4cc\n@\n"
            "*\t*clefF4\n4G\t4FF\n4G\t4GG\n@\n*\t*clefG2\n4C\t4aa\n@\n")
    clefs = ["*clefF4", "*clefG2"]
    assert far_share(text, clefs) == (2, 14)  # eee and ddd on the bass staff
    settled, dropped = settle_clefs(text, clefs)
    assert dropped == 2  # the useless change and the now redundant change back
    assert settled.count("*clefF4") == 1 and settled.count("*clefG2") == 1
    assert settled.index("*clefF4") > settled.index("4F\t4cc")  # the kept one, before FF
    assert far_share(settled, clefs) == (0, 14)


def test_the_generation_grammar_keeps_pitches_near_the_staff():
    ck = KernChecker(VOCAB, 2, (4, 4), shapes=MOZART, clefs=["*clefF4", "*clefG2"])
    ck.push_text("@\n4C\t4aa")
    assert "a" in ck.allowed_chars()  # aaa: 4 ledger lines above the treble staff
    ck.push("a")
    assert "a" not in ck.allowed_chars()  # aaaa would be far off
    ck.push_text("\n*\t*clefF4\n4C\t4cc")
    assert "c" not in ck.allowed_chars()  # on the bass staff ccc is 7 ledger lines up


def test_mozart_keeps_notes_near_the_staff():
    from cadenza.music.humdrum.clefs import far_share

    far = total = 0
    for p in sorted(_mozart_dir().glob("*.krn"))[::3]:
        a, b = far_share(read_text(p))
        far, total = far + a, total + b
    assert total > 20000 and far / total < 0.005


def test_generation_keeps_to_the_shapes_its_own_corpus_writes(palestrina_dataset):
    """prepare learns the dataset's token shapes; the sampler's checker then offers only those:
    Palestrina writes no beams or slurs, so after a note only ties, the next column or the line
    end may follow, where Mozart's table (runs whose dataset recorded none) offers beams."""
    import json

    from cadenza.codecs.kern.constraint import KernConstraint
    from cadenza.codecs.kern.grammar import DEFAULT_VOCAB

    shapes = json.loads((palestrina_dataset / "manifest.json").read_text())["context"]["shapes"]
    assert not any(set(s) & set("LJ()") for s in shapes["note_suffixes"] + shapes["note_prefixes"])
    vocab = list(DEFAULT_VOCAB)

    def after_a_note(context):
        checker = KernConstraint(vocab, context, 1, "*M4/4\n@\n").checkers[0]
        checker.push_text("8cc")
        return checker.allowed_chars()

    ctx = {"header": {"spines": 1}, "metre": Metre(4, 4)}
    own, mozart = after_a_note(dict(ctx, shapes=shapes)), after_a_note(ctx)
    assert "L" in mozart and "(" not in own and "L" not in own and "J" not in own
    assert "\n" in own and "\n" in mozart
