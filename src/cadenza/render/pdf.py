"""SVG pages -> one PDF. Verovio writes only SVG; its pages go to one PDF through cairosvg, on the
cairo library that Debian's python images already carry (libcairo2); nothing else is needed from
the system. svglib + reportlab (pure Python) were tried and rejected: 2x slower and they drop
``text-anchor``, so centred titles land off the page.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
from xml.etree import ElementTree as ET

from cadenza import CadenzaError
from cadenza.files import one_line

PAGE_WIDTH_MM = 210.0  # A4, whatever verovio's pixel size

_SVG = "{http://www.w3.org/2000/svg}"
_XLINK = "{http://www.w3.org/1999/xlink}href"
_SHAPES = {_SVG + t for t in ("path", "polygon", "polyline", "ellipse", "rect", "line")}
_BOLD = {"ending", "fing", "reh", "tempo"}  # verovio's own stylesheet, applied as attributes
_ITALIC = {"dir", "dynam", "mNum"}
_SMUFL_FONTS = {"Leipzig", "Bravura", "Gootville", "Leland", "Petaluma"}
# SMuFL note glyphs -> Unicode: whole, half, quarter, 8th, 16th note; augmentation dot
_SMUFL_TEXT = {
    **dict(zip("\ueca2\ueca3\ueca5\ueca7\ueca9\uecb7", "\U0001d15d\U0001d15e\u2669\u266a\U0001d161.")),  # metNote*
    **dict(zip("\ue1d2\ue1d3\ue1d5\ue1d7\ue1d9\ue1e7", "\U0001d15d\U0001d15e\u2669\u266a\U0001d161.")),  # note*
}


def pdf_from_svgs(pages: list[str], pdf_path: Path) -> Path:
    """One A4 PDF page per verovio SVG page, drawn by cairosvg onto a single cairo PDF surface.

    Each page is first flattened: glyph ``<use>`` references are inlined and verovio's small
    stylesheet becomes attributes. cairosvg resolves every ``<use>`` by scanning the whole
    document, so this cuts a 6-page sonata from ~7 s to ~4 s with identical output.
    """
    try:
        import cairocffi
        from cairosvg.parser import Tree
        from cairosvg.surface import PDFSurface
    except (ImportError, OSError) as exc:  # OSError: the cairo C library itself is missing
        raise CadenzaError(f"{pdf_path}: PDF needs cairosvg and the cairo library (pip install cairosvg; Debian: apt-get install libcairo2) ({one_line(exc)})") from None
    pdf_path = Path(pdf_path)
    if not pages:
        raise CadenzaError(f"{pdf_path}: no pages to write")
    buf = io.BytesIO()
    shared = cairocffi.PDFSurface(buf, 595.0, 842.0)

    class _Page(PDFSurface):  # draws onto the shared surface instead of opening a new file
        def _create_surface(self, width, height):
            shared.set_size(width, height)
            return shared, width, height

    try:  # a fixed date: the same score gives the same bytes (cairo >= 1.16)
        shared.set_metadata(cairocffi.PDF_METADATA_CREATE_DATE, "2000-01-01T00:00:00Z")
        shared.set_metadata(cairocffi.PDF_METADATA_CREATOR, "Cadenza (verovio, cairosvg)")
    except Exception:
        pass
    for svg in pages:
        tree, width_px = _flatten_svg(svg)
        dpi = width_px * 25.4 / PAGE_WIDTH_MM  # the page is A4 whatever verovio's pixel size
        page = _Page(Tree(bytestring=tree), None, dpi)
        page.context.show_page()
    shared.finish()
    pdf_path.write_bytes(buf.getvalue())
    return pdf_path


def _flatten_svg(svg: str) -> tuple[bytes, float]:
    root = ET.fromstring(svg.encode("utf-8"))
    defs = {}
    for d in root.iter(_SVG + "defs"):
        defs.update({g.get("id"): g for g in d})
    width_px = float((root.get("width") or "840").rstrip("px") or 840)

    def walk(el: ET.Element) -> list[ET.Element]:
        kept = []
        for ch in el:
            tag = ch.tag
            if tag in (_SVG + "style", _SVG + "defs", _SVG + "desc"):
                continue
            if tag == _SVG + "use":
                ref = defs.get((ch.get(_XLINK) or ch.get("href") or "").lstrip("#"))
                if ref is not None:
                    g = ET.Element(_SVG + "g", {"transform": ch.get("transform", "")})
                    g.extend(copy.deepcopy(list(ref)))
                    kept.append(g)
                continue
            classes = set((ch.get("class") or "").split())
            if "placeholder" in classes:
                continue
            if classes & _BOLD:
                ch.set("font-weight", "bold")
            if classes & _ITALIC:
                ch.set("font-style", "italic")
            if "label" in classes:
                ch.set("font-weight", "normal")
            ch.attrib.pop("class", None)
            ch.attrib.pop("id", None)
            if tag in _SHAPES and "stroke" not in ch.attrib:
                ch.set("stroke", "currentColor")  # verovio's CSS: shapes stroke in the text colour
            if tag == _SVG + "tspan" and ch.get("font-family") in _SMUFL_FONTS and ch.text:
                # music-font text (a metronome mark's note): cairo has no SMuFL font, so use
                # DejaVu's Unicode notes where they exist rather than print empty boxes
                ch.text = "".join(_SMUFL_TEXT.get(c, c) for c in ch.text)
                ch.set("font-family", "DejaVu Sans, sans-serif")
            children = walk(ch)
            if tag == _SVG + "g" and not ch.attrib:  # a bare group only costs cairosvg time
                kept.extend(children)
                continue
            ch[:] = children
            kept.append(ch)
        return kept

    root[:] = walk(root)
    return ET.tostring(root), width_px
