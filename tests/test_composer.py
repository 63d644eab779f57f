"""The composer classifier (issue 14): real music told apart by composer, and ``evaluate``
reporting how often samples asked for a composer are recognised."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from cadenza.evaluation.composer_judge import ComposerClassifier, excerpts, features
from conftest import shared


def _pieces(composer: str, a: int, b: int):
    from cadenza.music.reader import read_piece_file

    return [read_piece_file(f) for f in sorted(shared("midi", "piano-midi", composer).glob("*.mid"))[a:b]]


def test_features_are_histograms_the_same_in_every_key():
    piece = _pieces("Chopin", 0, 1)[0]
    f = features(piece)
    assert f.shape == (98,) and np.isfinite(f).all()
    for a, b in ((0, 12), (12, 14), (14, 39), (39, 51), (51, 67), (67, 79), (79, 95)):
        assert abs(f[a:b].sum() - 1.0) < 1e-9  # each histogram is a share (the mode one-hot too)
    for shift in (1, 5, -4):  # the judge hears a piece the same in any key (the models learn in 12)
        assert np.allclose(f, features(piece.transpose(shift)))
    cuts = excerpts(piece)
    assert len(cuts) >= 2 and all(c.end <= 32.0 + 1e-9 for c in cuts)


def test_the_key_is_found_from_the_pitch_classes():
    from cadenza.evaluation.composer_judge import key_of

    c_major = np.bincount([0, 2, 4, 5, 7, 9, 11, 0, 4, 7, 0, 7], minlength=12).astype(float)
    assert key_of(c_major) == (0, 0)
    assert key_of(np.roll(c_major, 7)) == (7, 0)  # G major
    a_minor = np.bincount([9, 11, 0, 2, 4, 5, 8, 9, 0, 4, 9, 4, 9], minlength=12).astype(float)
    assert key_of(a_minor) == (9, 1)


def test_classes_are_balanced():
    """One composer with ten times the excerpts of another does not win by numbers: a fit on
    duplicated excerpts of one class gives the same decisions as on the originals."""
    a, b = _pieces("Chopin", 0, 2), _pieces("Albeniz", 0, 2)
    xa = [x for p in a for x in excerpts(p)]
    xb = [x for p in b for x in excerpts(p)]
    plain = ComposerClassifier.fit(xa + xb, ["Chopin"] * len(xa) + ["Albeniz"] * len(xb))
    heavy = ComposerClassifier.fit(xa * 10 + xb, ["Chopin"] * (10 * len(xa)) + ["Albeniz"] * len(xb))
    test = [x for p in _pieces("Mozart", 0, 2) for x in excerpts(p)]
    assert plain.predict(test) == heavy.predict(test)


def test_classifier_tells_real_composers_apart_on_unseen_pieces():
    """Fit on four pieces each of Chopin, Mozart and Albeniz; most of three unseen pieces each
    are recognised by majority vote of their excerpts (chance: one in three)."""
    composers = ("Chopin", "Mozart", "Albeniz")
    fit = [(c, x) for c in composers for p in _pieces(c, 0, 4) for x in excerpts(p)]
    clf = ComposerClassifier.fit([x for _, x in fit], [c for c, _ in fit])
    assert clf.classes == sorted(composers)
    right = total = 0
    for c in composers:
        for p in _pieces(c, 4, 7):
            right += Counter(clf.predict(excerpts(p))).most_common(1)[0][0] == c
            total += 1
    assert right / total >= 5 / 9
    probs = clf.probabilities(excerpts(_pieces("Mozart", 5, 6)[0]))
    assert np.allclose(probs.sum(1), 1.0) and probs.mean(0).argmax() == clf.classes.index("Mozart")


@pytest.mark.slow
def test_evaluate_reports_composer_recognition(tmp_path):
    """A tiny conditioned notewise model: ``evaluate`` trains the classifier on held-out pieces,
    draws samples asked for each composer and reports them against unconditioned ones."""
    from cadenza.data.prepare import prepare
    from cadenza.evaluation.pipeline import evaluate
    from cadenza.training import TrainConfig, train

    root = shared("midi", "piano-midi")
    src = tmp_path / "pm"
    for composer in ("Chopin", "Mozart", "Albeniz"):
        (src / composer).mkdir(parents=True)
        for f in sorted((root / composer).glob("*.mid"))[:5]:
            shutil.copy(f, src / composer / f.name)
    shutil.copy(root / "metadata.csv", src)
    ds = tmp_path / "ds"
    prepare([src], ds, "notewise", {"steps_per_quarter": 4}, workers=1, seed=0, val_fraction=0.3, test_fraction=0.2, condition="composer")
    run = tmp_path / "run"
    train(ds, run, TrainConfig(rnn_size=32, num_layers=1, seq_length=32, batch_size=8, max_steps=20, eval_every=20, eval_batches=1, seed=0))
    rep = evaluate(run, tmp_path / "eval", n_samples=3, length=120, max_test_pieces=1)
    comp = rep["composer"]
    trained = json.loads((run / "config.json").read_text())["context"]["labels"]["composer"]
    known = [c for c in comp["classifier"]["composers"] if c in trained]  # asked for: known to the model and the classifier
    assert len(comp["classifier"]["composers"]) >= 2 and list(comp["per_composer"]) == known and known
    assert comp["chance"] == pytest.approx(1 / len(known))
    assert comp["conditioned_samples"] == sum(v["samples"] for v in comp["per_composer"].values()) > 0
    assert 0.0 <= comp["conditioned_recognised"] <= 1.0 and comp["unconditioned_samples"] == 3
    # the conditioned samples opened with their composer's label
    first = known[0]
    folder = tmp_path / "eval" / "composer-samples" / first
    summary = json.loads((folder / "summary.json").read_text())["samples"][0]
    # the prime opened with the label (a generation package that knows labels reports them instead)
    assert (folder / "sample-01.txt").read_text().startswith(f"<composer:{first}>") or summary.get("labels") == {"composer": first}
    assert "Composer conditioning" in (tmp_path / "eval" / "report.md").read_text()
    assert rep["headline"]["composer_chance"] == pytest.approx(1 / len(known))
    assert json.loads((tmp_path / "eval" / "report.json").read_text())["composer"]["classifier"]["folds"] == 5


def test_evaluate_refuses_an_unknown_composer(tmp_path):
    from cadenza import CadenzaError
    from cadenza.evaluation.pipeline import evaluate

    with pytest.raises(CadenzaError, match="not trained with composer labels"):
        evaluate("mozart-kern", tmp_path / "e", n_samples=0, composer="Chopin")


def test_models_lists_labels(tmp_path):
    from cadenza.cli.info import model_labels

    (tmp_path / "config.json").write_text(json.dumps({"context": {"labels": {"composer": ["Bach", "Chopin"]}}}))
    assert model_labels(str(tmp_path)) == {"composer": ["Bach", "Chopin"]}
    assert model_labels(str(Path(tmp_path) / "missing")) == {}
