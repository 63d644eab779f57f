"""Kern that knows its metre and key: headed training text, window prefixes, --metre/--key in
the prime, the checker and the file, honest forced-step counts, option clashes."""

from __future__ import annotations

import json
import re
import shutil
from fractions import Fraction

import pytest
import torch

from cadenza import CadenzaError
from cadenza.codecs.kern import clean, read_text
from cadenza.codecs.kern.checker import KernChecker
from cadenza.codecs.kern.conditioning import parse_key, parse_metre, window_prefix
from cadenza.codecs.kern.constraint import KernConstraint
from cadenza.codecs.kern.grammar import DEFAULT_VOCAB
from cadenza.evaluation.validity import kern_validity
from cadenza.generation import SamplingOptions, beam_search_ids, generate, sample_ids
from cadenza.music.metre_key import Metre
from conftest import shared


def test_keys_and_metres_are_read_as_a_musician_writes_them():
    assert parse_key("F") == ("*F:", -1)
    assert parse_key("g") == ("*g:", -2)
    assert parse_key("Bb") == ("*B-:", -2) == parse_key("B-")
    assert parse_key("bb") == ("*b-:", -5)
    assert parse_key("f#") == ("*f#:", 3)
    assert parse_metre("6/8") == (6, 8) and parse_metre("4/2") == (4, 2)
    assert parse_key("G:dor") == ("*G:dor", -1) == parse_key("G dorian") and parse_key("a Dorian") == ("*a:dor", 1)
    assert parse_key("E phrygian") == ("*E:phr", 0) and parse_key("Bb:mix") == ("*B-:mix", -3) and parse_key("F lydian") == ("*F:lyd", 0)
    for bad in ("H", "Fb#", "x", "G:xyz", "D doric"):
        with pytest.raises(CadenzaError, match="--key"):
            parse_key(bad)
    with pytest.raises(CadenzaError, match="--metre"):
        parse_metre("3/5")


def _declared(kern: str) -> tuple[set[str], set[str]]:
    toks = [t for line in kern.splitlines() if line.startswith("*") for t in line.split("\t")]
    return {t for t in toks if re.match(r"\*M\d", t) and not t.startswith("*MM")}, {t for t in toks if t.startswith("*k[")}


@pytest.mark.parametrize("metre,key,keysig", [("4/2", None, None), ("6/8", "g", "*k[b-e-]"), ("3/4", "F", "*k[b-]")])
def test_prime_and_file_declare_exactly_the_metre_and_key_asked(tmp_path, tiny_run, metre, key, keysig):
    from cadenza.music.m21 import parse_kern

    samples = generate(tiny_run, tmp_path, n=2, bars=3, seed=4, metre=metre, key=key, formats=("krn",))
    want = Fraction(4 * int(metre.split("/")[0]), int(metre.split("/")[1]))
    for s in samples:
        head = s.text.split("@\n")[0]
        assert head.startswith("*clef") and f"*M{metre}" in head, head  # the model is told
        kern = s.files["krn"].read_text()
        meters, keysigs = _declared(kern)
        assert meters == {f"*M{metre}"}
        if keysig:
            assert keysigs == {keysig} and s.stats["key"] == key
        assert s.stats["metre"] == metre and s.stats["conditioned"]
        v = kern_validity(kern)
        assert v["parsed"] and v["bars_ok"] == v["bars"], v.get("bad_bars")
        measures = parse_kern(kern).parts[0].getElementsByClass("Measure")
        inner = [m.duration.quarterLength for m in list(measures)[1:-1]]
        assert all(Fraction(q).limit_denominator(64) == want for q in inner), inner


def test_without_flags_metre_and_key_are_drawn_from_the_corpus(tmp_path, tiny_run):
    config = json.loads((tiny_run / "config.json").read_text())
    offered = {o[0] for o in config["context"]["openings"]}
    s = generate(tiny_run, tmp_path, n=1, bars=2, seed=9, formats=("krn",))[0]
    assert s.stats["chosen"] == "drawn" and f"*M{s.stats['metre']}" in offered
    assert _declared(s.files["krn"].read_text())[0] == {f"*M{s.stats['metre']}"}


def test_training_windows_start_with_the_header_in_force(palestrina_dataset):
    from cadenza.training.data import Stream, load_vocab

    vocab = load_vocab(palestrina_dataset)
    stream = Stream.load(palestrina_dataset, "train", "char", vocab)
    assert stream.prefixes is not None and len(stream.prefixes["at"]) > 1
    x, y = stream.batch(8, 120, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (8, 120)
    for row, tgt in zip(x.tolist(), y.tolist()):
        text = "".join(vocab[i] for i in row)
        # the metre is declared before the window's first barline: by the prefix, or by the
        # piece's own opening when the window starts inside it
        assert "*M" in text.split("@\n")[0], text[:80]
        # the prefix cannot guess where in the bar the window starts: one target ignored
        assert tgt.count(-100) <= 1
    assert (y == -100).sum() >= 4  # most windows start after their piece's opening
    # a prefix longer than half a short window is cut by whole lines, keeping the metre
    pre = stream.prefix_at(int(stream.prefixes["at"][-1]), 25)
    assert "".join(vocab[i] for i in pre).startswith("*M")


def test_window_prefix_follows_spine_splits():
    text = "*clefF4\t*clefG2\n*k[b-]\t*k[b-]\n*M3/4\t*M3/4\n@\n4c\t4e\n*\t*^\n4c\t4e\t4g\n"
    got = window_prefix(text)
    assert got[-1][1] == "*clefF4\t*clefG2\t*clefG2\n*k[b-]\t*k[b-]\t*k[b-]\n*M3/4\t*M3/4\t*M3/4\n"
    assert got[-1][0] == text.index("4c\t4e\t4g")


def test_an_old_dataset_is_told_to_prepare_again(tmp_path, palestrina_dataset):
    from cadenza.data import load_manifest
    from cadenza.training import TrainConfig, train

    old = tmp_path / "old"
    shutil.copytree(palestrina_dataset, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["context"]["cleaning"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CadenzaError, match="prepare it again"):
        load_manifest(old)
    with pytest.raises(CadenzaError, match="no metre, key or clefs"):
        train(old, tmp_path / "run", TrainConfig(max_steps=1))


def test_an_old_model_keeps_working_and_takes_the_flags(tmp_path, tiny_run):
    """A run trained before headed text (its config has no cleaning version) still generates as
    before without flags, and with them the metre and key are enforced and declared."""
    old = tmp_path / "old-run"
    shutil.copytree(tiny_run, old)
    config = json.loads((old / "config.json").read_text())
    for k in ("cleaning", "openings"):
        config["context"].pop(k, None)
    (old / "config.json").write_text(json.dumps(config))
    plain = generate(old, tmp_path / "a", n=1, bars=2, seed=1, formats=("krn",))[0]
    assert "metre" not in plain.stats  # no flags: as before (the model adopts its metre)
    s = generate(old, tmp_path / "b", n=2, bars=4, seed=1, metre="3/4", key="F", formats=("krn",))
    for x in s:
        assert _declared(x.files["krn"].read_text()) == ({"*M3/4"}, {"*k[b-]"})
        assert x.stats["conditioned"] is False
        v = kern_validity(x.files["krn"].read_text())
        assert v["parsed"] and v["bars_ok"] == v["bars"]


def test_bundled_mozart_model_writes_the_metre_and_key_it_is_told(tmp_path):
    """The issue's done-when on the bundled model: only *M3/4 and *k[b-], every inner bar full,
    notes near their staff."""
    from cadenza.music.humdrum.clefs import far_share

    s = generate("mozart-kern", tmp_path / "m", n=3, bars=8, seed=4, metre="3/4", key="F", formats=("krn",))
    far = notes = 0
    for x in s:
        text = x.files["krn"].read_text()
        assert _declared(text) == ({"*M3/4"}, {"*k[b-]"})
        assert x.stats["conditioned"] is True
        v = kern_validity(text)
        assert v["parsed"] and v["bars_ok"] == v["bars"] >= 8
        a, b = far_share(text)
        far, notes = far + a, notes + b
    assert notes > 100 and far / notes <= 0.005


class _PrefersInvalid(torch.nn.Module):
    """A model that always gives one character the checker never allows a bonus logit."""

    def __init__(self, vocab_size: int, bad: int, bonus: float):
        super().__init__()
        self.logits = torch.zeros(vocab_size)
        self.logits[bad] = bonus

    def init_state(self, n):
        return None

    def select_state(self, state, index):
        return state

    def forward(self, x, state=None):
        return self.logits.expand(x.shape[0], x.shape[1], -1).clone(), state


def test_forced_steps_count_every_step_the_checker_changed():
    vocab = list(DEFAULT_VOCAB) + ["!"]
    bad = vocab.index("!")
    stoi = {c: i for i, c in enumerate(vocab)}
    prime = [stoi[c] for c in "@\n"]
    ctx = {"header": {"spines": 2}, "metre": Metre(3, 4)}
    for temp in (1.0, 0.5):
        con = KernConstraint(vocab, ctx, 2, "@\n")
        sample_ids(_PrefersInvalid(len(vocab), bad, 6.0), prime, 2, 300, SamplingOptions(temperature=temp), 0, constraint=con)
        # "!" has ~80% of the probability at temperature 1, yet the valid characters keep
        # more than the 1% under which a step used to count as forced: it counts now
        assert sum(con.forced) > 0.7 * 600, (temp, con.forced)
    con = KernConstraint(vocab, ctx, 2, "@\n")
    beam_search_ids(_PrefersInvalid(len(vocab), bad, 3.0), prime, 1, 50, 2, SamplingOptions(), 0, constraint=con)
    assert con.forced == [50]  # every step, the top token was the invalid one


def test_trailing_tabs_are_ignored_on_a_real_file():
    path = sorted(shared("corpora", "mozart-piano-sonatas").glob("*.krn"))[0]
    text = read_text(path)
    tabbed = "\n".join(line + "\t" if line and not line.startswith("!") else line for line in text.splitlines())
    assert clean(tabbed, "tabbed.krn") == clean(text, str(path))


def test_a_one_spine_vocabulary_without_tabs_is_checked():
    vocab = [c for c in DEFAULT_VOCAB if c != "\t"]
    ck = KernChecker(vocab, 1, (3, 4))
    ck.push_text("*M3/4\n@\n4c\n4d\n4e\n@\n2.f\n@\n")
    assert ck.bars_completed == 2 and "\t" not in ck.allowed_chars()
    con = KernConstraint(vocab, {"header": {"spines": 1}, "metre": Metre(3, 4)}, 1, "*M3/4\n@\n")
    assert bool(con.mask().any())


def test_option_clashes_are_refused_with_a_message():
    from cadenza.generation.request import conflicts

    assert "--beam" in conflicts(True, False, False, True, False)
    assert "--form" in conflicts(True, False, True, False, False)
    assert "--prime" in conflicts(True, True, False, False, False)
    assert "--constrained" in conflicts(True, False, False, False, False, True)
    assert "give one of them" in conflicts(False, True, False, False, True)
    assert "--form" in conflicts(False, False, True, True, False)
    assert conflicts(False, False, True, False, True) is None


def test_a_request_checks_its_own_combinations_once():
    """The one place the rules live: the command line, compose, the API and the page all make a
    Request, and a Request that cannot be made says why (in the command line's words)."""
    from pathlib import Path

    from cadenza.generation import DEFAULT, Request, SamplingOptions

    with pytest.raises(CadenzaError, match="--prompt continues a music file; it cannot be combined with --form, --beam"):
        Request(prompt=Path("a.mid"), form="AAB", beam=3)
    with pytest.raises(CadenzaError, match="give one of them"):
        Request(prime="@\n", metre="3/4")
    with pytest.raises(CadenzaError, match="--form samples each phrase"):
        DEFAULT.but(form="AB", beam_sample=True)
    with pytest.raises(CadenzaError, match="-n must be at least 1"):
        Request(n=0)
    with pytest.raises(CadenzaError, match="give the file"):
        Request(rewrite=(3, 4))
    with pytest.raises(CadenzaError, match="cannot be combined with --metre/--key"):
        Request(prompt=Path("a.krn"), rewrite=(3, 4), key="F")
    ok = Request(prompt=Path("a.krn"), rewrite=(3, 4), labels={"composer": "Bach", "style": None})
    assert ok.labels == {"composer": "Bach"} and not ok.continues and Request(prompt="a.mid").continues
    assert DEFAULT.options == SamplingOptions() and (DEFAULT.options.temperature, DEFAULT.options.top_p) == (1.0, 1.0)
    assert Request(seed=None).seeded().seed is not None and DEFAULT.seeded() is DEFAULT


def test_headed_text_keeps_the_header_of_real_pieces():
    path = shared("corpora", "mozart-piano-sonatas", "sonata01-1.krn")
    text, header = clean(read_text(path), str(path))
    assert text.startswith("*clefF4\t*clefG2\n*k[]\t*k[]\n*C:\t*C:\n*M4/4\t*M4/4\n@\n")
    assert header.meter == "*M4/4"


def test_palestrina_keeps_its_church_modes_through_cleaning_transposition_and_generation(tmp_path, tiny_run, palestrina_paths):
    """Palestrina's masses name their mode (``*G:dor``): the cleaned text keeps it, transposing
    moves the final and keeps the mode, and ``--key "G dorian"`` declares it with G dorian's
    signature (one flat)."""
    from cadenza.codecs.kern.transposition import transpose_text

    modal = [p for p in palestrina_paths if "*G:dor" in read_text(p)]
    assert modal
    text, header = clean(read_text(modal[0]), str(modal[0]))
    assert header.key == "*G:dor" and "*G:dor\t*G:dor" in text
    assert "*A:dor" in transpose_text(text, 2, -1) and "*G:dor" not in transpose_text(text, 2, -1)
    s = generate(tiny_run, tmp_path, n=1, bars=2, seed=3, metre="4/2", key="G dorian", formats=("krn",))[0]
    kern = s.files["krn"].read_text()
    assert s.stats["key"] == "G:dor" and "*G:dor" in kern and _declared(kern)[1] == {"*k[b-]"}
    assert kern_validity(kern)["parsed"]


def test_an_opening_without_a_key_is_named_by_its_signature():
    from cadenza.codecs.kern.conditioning import signature_name

    assert signature_name("*k[f#]") == "signature of 1 sharp"
    assert signature_name("*k[b-e-a-]") == "signature of 3 flats"
    assert signature_name("*k[]") == "signature of no sharps or flats"
