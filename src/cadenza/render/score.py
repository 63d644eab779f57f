"""Engraving: kern or MusicXML text -> verovio -> SVG pages, with our title and composer.

Verovio reads **kern and MusicXML natively (no music21 round trip, ~2 s for a 100-bar sonata
movement) and engraves as well as a notation program. The title and composer go into the text's
own header (kern reference records, MusicXML ``work``/``identification``), which verovio prints.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from cadenza import CadenzaError
from cadenza.files import one_line
from cadenza.music.humdrum.structure import check_spines

# A4 in verovio units (tenths of a mm) at 40% scale -> 840 x 1188 px pages, ~7 systems of piano.
VEROVIO_OPTIONS = {
    "pageWidth": 2100,
    "pageHeight": 2970,
    "scale": 40,
    "header": "auto",
    "footer": "none",
    "breaks": "auto",
    "svgFormatRaw": True,
}

# What reaches verovio is bounded: it hangs deaf to Ctrl-C on a kern file 10,000 spines wide,
# aborts the process (a C++ exception) at 1,500-3,000 and takes 90 s at 1,000 (issue #24). An
# orchestral score has ~30-40 staves; a piano score with its **dynam and **text spines, under 10.
MAX_SPINES = 64
MAX_PARTS = 64
MAX_TEXT_MB = 50


def svg_pages(text: str, fmt: str, title: str | None = None, composer: str | None = None) -> list[str]:
    """Engrave kern (``fmt`` "krn"/"kern") or MusicXML ("musicxml") text as SVG pages (A4, one
    string a page). ``title``/``composer`` replace the score's own header lines.
    Raises :class:`CadenzaError` if verovio cannot read the text."""
    tk = loaded_toolkit(text, fmt, title, composer)
    return [tk.renderToSVG(i) for i in range(1, tk.getPageCount() + 1)]


def new_toolkit():
    """A fresh verovio toolkit (6 ms: no state shared between threads) with its fonts and
    resources set explicitly: verovio keeps its default resource path per thread, so a toolkit
    made in a worker thread (the web app's pool) would otherwise look for them in the folder the
    wheel was built in, and load nothing."""
    from importlib.resources import files

    import verovio

    tk = verovio.toolkit(False)
    tk.setResourcePath(str(files("verovio") / "data"))
    return tk


def loaded_toolkit(text: str, fmt: str, title: str | None, composer: str | None):
    """A fresh verovio toolkit holding ``text``, checked to have notes or rests on its first page."""
    import verovio

    # verovio prints rhythm warnings about model output, and about kern expansion lists, to
    # stderr; the score still engraves
    verovio.enableLog(verovio.LOG_OFF)

    fmt = {"kern": "krn", "humdrum": "krn", "xml": "musicxml", "mxl": "musicxml"}.get(fmt, fmt)
    check_size(text, fmt)
    # verovio "loads" anything (even "hello") as an empty page, so check the kind first.
    if fmt == "krn":
        if "**kern" not in text:
            raise CadenzaError("not kern (no **kern spine)")
        # verovio aborts the whole process on some malformed kern (a column count that does not
        # match the spines): check the spine structure first, which raises a CadenzaError
        check_spines(text, "kern")
        text = universal_first(kern_with_header(text, title, composer))
        input_from = "humdrum"
    elif fmt == "musicxml":
        if not title and not composer:  # else musicxml_with_header parses it anyway
            musicxml_root(text)
        text = musicxml_with_header(text, title, composer)
        input_from = "musicxml"
    else:
        raise CadenzaError(f"cannot engrave {fmt!r} text (use 'krn' or 'musicxml')")
    tk = new_toolkit()
    tk.setOptions(VEROVIO_OPTIONS)
    tk.setInputFrom(input_from)
    if not tk.loadData(text) or tk.getPageCount() < 1:
        raise CadenzaError(f"verovio cannot read it as {'kern' if fmt == 'krn' else 'MusicXML'}")
    first = tk.renderToSVG(1)
    if not any(f'class="{c}' in first for c in ("note", "rest", "mRest", "chord")):
        raise CadenzaError("verovio found no notes or rests in it")
    return tk


def check_size(text: str, fmt: str) -> None:
    """Refuse, in one line, a score too large for verovio to engrave in bounded time: more than
    :data:`MAX_SPINES` spines side by side (kern), :data:`MAX_PARTS` parts (MusicXML) or
    :data:`MAX_TEXT_MB` of text."""
    if len(text) > MAX_TEXT_MB * 1_000_000:
        raise CadenzaError(f"too large to engrave: {len(text) / 1e6:.0f} MB of {'kern' if fmt == 'krn' else 'MusicXML'} (at most {MAX_TEXT_MB} MB)")
    if fmt == "krn":
        wide = max((line.count("\t") + 1 for line in text.splitlines() if line and not line.startswith("!!")), default=0)
        if wide > MAX_SPINES:
            raise CadenzaError(f"too wide to engrave: {wide} spines side by side (at most {MAX_SPINES})")
    elif fmt == "musicxml":
        parts = text.count("<score-part ") + text.count("<score-part>")
        if parts > MAX_PARTS:
            raise CadenzaError(f"too many parts to engrave: {parts} (at most {MAX_PARTS})")


def musicxml_root(text: str) -> ET.Element:
    """The root element of MusicXML text; a :class:`CadenzaError` if it is not MusicXML."""
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise CadenzaError(f"not well-formed MusicXML ({one_line(exc)})") from None
    if root.tag not in ("score-partwise", "score-timewise"):
        raise CadenzaError(f"not MusicXML (root element <{root.tag}>)")
    return root


def kern_with_header(text: str, title: str | None, composer: str | None) -> str:
    """Kern with ``!!!OTL``/``!!!COM`` reference records (verovio's title and composer) replaced.

    New records go after any leading ``!!!!`` (universal) records: verovio 6.4 crashes on a
    file whose ``!!!!SEGMENT`` line is not first."""
    lines = text.splitlines()
    head = []
    if title:
        lines = [ln for ln in lines if not ln.startswith("!!!OTL")]
        head.append(f"!!!OTL: {title}")
    if composer:
        lines = [ln for ln in lines if not ln.startswith("!!!COM")]
        head.append(f"!!!COM: {composer}")
    if not head:
        return text
    first = 0
    while first < len(lines) and lines[first].startswith("!!!!"):
        first += 1
    return "\n".join(lines[:first] + head + lines[first:]) + "\n"


def universal_first(text: str) -> str:
    """Kern with its universal (``!!!!``) records moved to the top: verovio 6.4 crashes the whole
    process (SIGSEGV) on a file whose ``!!!!SEGMENT`` line follows another record."""
    lines = text.splitlines()
    universal = [ln for ln in lines if ln.startswith("!!!!")]
    if not universal or lines[: len(universal)] == universal:
        return text
    return "\n".join(universal + [ln for ln in lines if not ln.startswith("!!!!")]) + "\n"


def musicxml_with_header(text: str, title: str | None, composer: str | None) -> str:
    """MusicXML with ``work-title`` and the composer ``creator`` set; page-layout ``credit``
    texts (which verovio prefers, and which would repeat the old title) are dropped."""
    if not title and not composer:
        return text
    root = musicxml_root(text)
    if title:
        for el in root.findall("credit") + root.findall("movement-title"):
            root.remove(el)
        work = root.find("work")
        if work is None:
            work = ET.Element("work")
            root.insert(0, work)
        wt = work.find("work-title")
        if wt is None:
            wt = ET.SubElement(work, "work-title")
        wt.text = title
        mt = ET.Element("movement-title")
        mt.text = title
        root.insert(list(root).index(work) + 1, mt)
    if composer:
        ident = root.find("identification")
        if ident is None:
            ident = ET.Element("identification")
            anchor = root.find("movement-title") if root.find("movement-title") is not None else root.find("work")
            root.insert(list(root).index(anchor) + 1 if anchor is not None else 0, ident)
        for el in ident.findall("creator"):
            if el.get("type") == "composer":
                ident.remove(el)
        creator = ET.Element("creator", {"type": "composer"})
        creator.text = composer
        ident.insert(0, creator)
    return ET.tostring(root, encoding="unicode")
