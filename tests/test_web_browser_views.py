"""Issue #23 in headless Chromium: an uploaded score drawn in the prompt roll; its continuation
shown as the new bars after the last prompt bars, the whole piece one click away; rewritten
bars highlighted; a notewise variation engraved on two staves. Screenshots of the
continue-upload, rewrite and generate views go to ``$CADENZA_ARTEFACTS`` (default: a tmp folder)."""

from __future__ import annotations

import pytest

from conftest import shared
from test_web_browser import artefacts, base_url, page  # noqa: F401 - the same fixtures: one server, one browser a module


def _upload(page, path) -> None:  # noqa: F811
    page.click("#clear")
    page.evaluate("document.getElementById('results').innerHTML = ''")  # wait for this test's results, not the last one's
    page.set_input_files("#upload", files=[{"name": path.name, "mimeType": "text/plain", "buffer": path.read_bytes()}])
    page.wait_for_function("document.getElementById('prompt-info').textContent.includes('bars')", timeout=60_000)


def _inked(page) -> int:  # noqa: F811
    """Pixels drawn in the prompt roll."""
    return page.evaluate("""(() => { const c = document.getElementById('prompt-roll');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; })()""")


@pytest.mark.slow
def test_continue_an_upload_shows_the_new_bars_then_the_whole_piece(page, artefacts):  # noqa: F811
    sonata = shared("corpora", "mozart-piano-sonatas", "sonata16-1.krn")
    _upload(page, sonata)
    assert "210 bars" in page.inner_text("#prompt-info") or "bars" in page.inner_text("#prompt-info")
    assert _inked(page) > 500  # the uploaded file is drawn in the prompt roll
    page.select_option("#model", "mozart-kern")
    page.fill("#bars", "4")
    page.fill("#variations", "1")
    page.fill("#seed", "2")
    page.click("#go")
    page.wait_for_selector(".variation .shown", timeout=120_000)
    assert "after the last 2 bars" in page.inner_text(".variation .shown")
    page.wait_for_selector(".variation .score .page svg", timeout=30_000)
    assert page.locator(".variation .score .page").count() == 1
    assert "MIDI (whole piece)" in page.inner_text(".variation .downloads")
    page.wait_for_timeout(800)
    page.screenshot(path=str(artefacts / "continue-upload.png"), full_page=True)
    page.click(".variation button.whole")
    page.wait_for_function("document.querySelectorAll('.variation .score .page').length > 5", timeout=120_000)
    assert page.inner_text(".variation button.whole") == "Show only the new bars"
    page.click(".variation button.whole")  # and back
    page.wait_for_function("document.querySelectorAll('.variation .score .page').length === 1", timeout=10_000)
    page.click("#clear")


@pytest.mark.slow
def test_rewritten_bars_are_highlighted(page, artefacts):  # noqa: F811
    sonata = shared("corpora", "mozart-piano-sonatas", "sonata16-1.krn")
    _upload(page, sonata)
    page.select_option("#model", "mozart-kern")
    page.fill("#rewrite", "9-10")
    page.fill("#variations", "1")
    page.fill("#seed", "3")
    page.click("#rewrite-go")
    page.wait_for_selector(".variation .shown", timeout=120_000)
    assert "bars 9-10 rewritten (highlighted)" in page.inner_text(".variation .shown")
    page.wait_for_selector(".variation .score .page svg", timeout=30_000)
    svg = page.inner_html(".variation .score .page")
    assert svg.count('data-rewritten="1"') == 2
    page.wait_for_timeout(800)
    page.screenshot(path=str(artefacts / "rewrite.png"), full_page=True)
    page.click("#clear")


@pytest.mark.slow
def test_a_notewise_variation_is_engraved_on_two_staves(page, artefacts):  # noqa: F811
    page.click("#clear")
    page.evaluate("document.getElementById('results').innerHTML = ''")
    page.select_option("#model", "piano-notewise")
    page.fill("#bars", "4")
    page.fill("#variations", "1")
    page.fill("#seed", "5")
    page.click("#go")
    page.wait_for_selector(".variation .score .page svg", timeout=120_000)
    svg = page.inner_html(".variation .score .page")
    assert svg.count('class="staff"') >= 2 * svg.count('class="measure"') > 0
    page.wait_for_timeout(800)
    page.screenshot(path=str(artefacts / "generate-notewise.png"), full_page=True)


@pytest.mark.slow
def test_character_sets_temperature_and_top_p(page):  # noqa: F811
    page.fill("#character", "0")
    page.dispatch_event("#character", "input")
    assert (page.input_value("#temperature"), page.input_value("#top_p")) == ("0.50", "0.80")
    page.fill("#character", "0.6")
    page.dispatch_event("#character", "input")
    assert (page.input_value("#temperature"), page.input_value("#top_p")) == ("1.00", "1.00")  # the model as trained, the default
    assert not page.is_visible("#temperature")  # the numbers live under Advanced


@pytest.mark.slow
def test_phone_keys_are_a_finger_wide(page, base_url, artefacts):  # noqa: F811
    context = page.context.browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        phone.goto(base_url)
        phone.wait_for_selector(".key.white")
        width = phone.evaluate("document.querySelector('.key.white').getBoundingClientRect().width")
        scrolls = phone.evaluate("(() => { const s = document.querySelector('.piano-scroll'); return s.scrollWidth > s.clientWidth; })()")
        phone.screenshot(path=str(artefacts / "phone.png"), full_page=False)
    finally:
        context.close()
    assert width >= 40 and scrolls, width


@pytest.mark.slow
def test_a_recording_is_quantised_to_sixteenths(page):  # noqa: F811
    page.click("#clear")
    page.click("#record")
    for k, hold in zip("dfgh", (90, 170, 110, 230)):  # uneven, as a player is
        page.keyboard.down(k)
        page.wait_for_timeout(hold)
        page.keyboard.up(k)
        page.wait_for_timeout(37)
    page.click("#record")
    step = page.evaluate("window.cadenza.recorder.beat / 4")  # a sixteenth at the tempo chosen (100: 0.15 s)
    starts = page.evaluate("window.cadenza.state.prompt.notes.map((n) => [n.start, n.duration])")
    assert len(starts) == 4 and all(abs(x / step - round(x / step)) < 1e-9 for pair in starts for x in pair), starts
    page.uncheck("#quantise")  # as played
    raw = page.evaluate("window.cadenza.state.prompt.notes.map((n) => n.start)")
    assert any(abs(x / step - round(x / step)) > 1e-3 for x in raw), raw
    page.click("#clear")
    page.check("#quantise")
