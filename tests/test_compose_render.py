"""``compose`` renders every format in one job (the score engraved once); where one format fails,
the others are still written and the failure is one warning naming the format."""

from __future__ import annotations

from cadenza.compose import compose


def test_one_failing_format_leaves_the_others_and_a_warning(tmp_path):
    missing = tmp_path / "no-such.sf2"
    comp = compose("mozart-kern", tmp_path / "out", soundfont=missing, seed=1, bars=2)
    assert set(comp.files) == {"krn", "musicxml", "mid", "svg", "pdf", "png"}
    assert all(p.exists() for paths in comp.files.values() for p in paths)
    assert len(comp.warnings) == 1 and comp.warnings[0].startswith("wav: ") and str(missing) in comp.warnings[0]
