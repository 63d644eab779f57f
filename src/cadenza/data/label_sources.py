"""Where a piece's labels (composer, style, instrument) come from: what the corpus carries.

In order of trust, for each kind the first source that says something wins:

1. a ``metadata.csv`` beside the file or in a folder above it (up to the one above the source folder), with a
   column naming the file (``midi``, ``path``, ``file`` or ``filename``, relative to the CSV),
   as piano-midi.de's ``composer,title,year,midi,duration``; ``style`` (or ``period``) from its
   column, else the period of its ``year`` (:data:`PERIODS`);
2. a kern file's own reference records, read from the raw file before cleaning drops them:
   ``!!!COM: Bach, Johann Sebastian`` (composer: the surname), ``!!!AST:`` (style) and the
   instrument codes of ``*I`` interpretations (``*Ipiano``, ``*Ivioln``);
3. music21's corpus, organised by composer: ``music21/corpus/bach/...`` is by Bach;
4. collections of traditional tunes (Essen, O'Neill, Nottingham): style ``folk``;
5. the folder a file lies in, below the source folder given (``piano-midi/Chopin/x.mid``), or
   the source folder itself when several are given by name (``piano-midi/Chopin piano-midi/Bach``);
6. instruments: the tracks the MIDI codecs read (``Encoded.info["instruments"]``);
7. a style from the composer found (:data:`COMPOSER_PERIODS`: Palestrina renaissance, Bach baroque).

Labels become tokens in :mod:`cadenza.codecs.labels` (the label tokens); this module only finds them.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from cadenza.codecs.labels import normalise
from cadenza.music.instruments import INSTRUMENT_NAME

# (last year, period): the style a piece gets from its year when nothing names one
PERIODS: tuple[tuple[int, str], ...] = ((1600, "renaissance"), (1750, "baroque"), (1820, "classical"), (1910, "romantic"), (9999, "modern"))
# Humdrum instrument codes (``*Ivioln``) as the names a musician writes
HUMDRUM_INSTRUMENTS = {
    "piano": "piano", "pianof": "piano", "forte": "piano", "klav": "piano", "cemba": "harpsichord", "organ": "organ", "violn": "violin", "viola": "viola",
    "cello": "cello", "contr": "contrabass", "flt": "flute", "oboe": "oboe", "clars": "clarinet", "fagot": "bassoon", "corno": "horn", "tromp": "trumpet",
    "tromb": "trombone", "tuba": "tuba", "guitr": "guitar", "harp": "harp", "soprn": "voice", "mezzo": "voice", "alto": "voice", "tenor": "voice",
    "barit": "voice", "bass": "voice", "vox": "voice", "calto": "voice", "cant": "voice", "ctenor": "voice", "cbass": "voice", "altus": "voice",
    "bassus": "voice", "quint": "voice", "sextus": "voice", "cantus": "voice", "sopr": "voice", "voice": "voice", "choir": "voice",
}
# Instrument names as scores write them (Italian, German, English), for files with no ``*I`` code
INSTRUMENT_WORDS = {
    "violino": "violin", "violin": "violin", "violine": "violin", "viola": "viola", "bratsche": "viola", "violoncello": "cello", "cello": "cello",
    "violoncelle": "cello", "contrabasso": "contrabass", "kontrabass": "contrabass", "pianoforte": "piano", "piano": "piano", "fortepiano": "piano",
    "klavier": "piano", "cembalo": "harpsichord", "harpsichord": "harpsichord", "organo": "organ", "orgel": "organ", "organ": "organ",
    "flauto": "flute", "flute": "flute", "oboe": "oboe", "clarinetto": "clarinet", "clarinet": "clarinet", "fagotto": "bassoon", "bassoon": "bassoon",
    "soprano": "voice", "alto": "voice", "tenore": "voice", "tenor": "voice", "basso": "voice", "bass": "voice", "cantus": "voice", "voice": "voice",
}
# Titles that name their ensemble, for files that name no instrument at all
TITLE_ENSEMBLES = {"string quartet": ("cello", "viola", "violin"), "streichquartett": ("cello", "viola", "violin"), "piano sonata": ("piano",),
                   "klaviersonate": ("piano",)}
_FILE_COLUMNS = ("midi", "path", "file", "filename")
# The style period of composers in the corpora Cadenza ships or reads (music21's, ../shared), for a
# piece whose files name a composer and no period: a model conditioned on style then learns
# "renaissance" from Palestrina and "baroque" from Bach without a year in every file.
COMPOSER_PERIODS = {
    "Ciconia": "medieval", "Landini": "medieval", "Machaut": "medieval", "Josquin": "renaissance", "Palestrina": "renaissance", "Lusitano": "renaissance",
    "Monteverdi": "renaissance", "Luca": "medieval", "Bach": "baroque", "Corelli": "baroque", "Handel": "baroque", "Scarlatti": "baroque", "Vivaldi": "baroque",
    "Cpebach": "classical", "Haydn": "classical", "Mozart": "classical", "Beethoven": "classical", "Clementi": "classical", "Schubert": "romantic",
    "Weber": "romantic", "Chopin": "romantic", "Schumann": "romantic", "Mendelssohn": "romantic", "Liszt": "romantic", "Brahms": "romantic",
    "Verdi": "romantic", "Grieg": "romantic", "Tchaikovsky": "romantic", "Joplin": "ragtime", "Schoenberg": "modern", "Webern": "modern",
}
# music21 corpus folders named for a repertoire or a purpose, not a composer
_M21_REPERTOIRES = {"trecento": {"style": "medieval"}, "demos": {}, "leadsheet": {}, "theoryexercises": {}}
# Collections of traditional tunes (music21's corpus folders, ../shared/midi): a style, no composer.
FOLK_COLLECTIONS = frozenset({"essenfolksong", "oneills1850", "ryansmammoth", "nottingham-folk", "nottingham-dataset", "airdsairs", "miscfolk"})


def period_of(year: Any) -> str | None:
    """The style period of a year (``1890`` -> ``"romantic"``), None if it is not a year."""
    m = re.match(r"\s*(\d{3,4})", str(year or ""))
    if not m:
        return None
    y = int(m.group(1))
    return next(name for last, name in PERIODS if y <= last)


def composer_name(text: str) -> str:
    """``"Bach, Johann Sebastian"`` -> ``"Bach"``; ``"chopin"`` -> ``"Chopin"`` (a surname as a
    label, so a kern corpus and piano-midi.de's CSV agree)."""
    name = text.split(",")[0].strip() if "," in text else (text.split() or [""])[-1]
    return normalise(name[:1].upper() + name[1:]) if name else ""


@lru_cache(maxsize=64)
def _metadata(csv_path: Path) -> dict[str, dict[str, str]]:
    """``metadata.csv`` rows by the resolved path of the file each names ({} when it names none)."""
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    out = {}
    for row in rows:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        col = next((c for c in _FILE_COLUMNS if row.get(c)), None)
        if col:
            out[str((csv_path.parent / row[col]).resolve())] = row
    return out


def from_metadata(path: Path, root: Path | None) -> dict[str, str]:
    """Labels from the nearest ``metadata.csv`` naming ``path`` (see the module docstring)."""
    here = path.resolve()
    top = root.resolve() if root is not None else here.parent
    for folder in [here.parent, *here.parent.parents]:
        row = _metadata(folder / "metadata.csv").get(str(here)) if (folder / "metadata.csv").is_file() else None
        if row:
            got = {"composer": composer_name(row.get("composer", "")), "style": normalise(row.get("style") or row.get("period") or "") or period_of(row.get("year")) or "",
                   "instrument": normalise(row.get("instrument") or row.get("instruments") or "").lower()}
            return {k: v for k, v in got.items() if v}
        if folder == top.parent or top.parent not in folder.parents:  # one folder above the source: piano-midi/metadata.csv for piano-midi/Chopin
            break
    return {}


def from_kern(path: Path) -> dict[str, str]:
    """Labels from a kern file's reference records and ``*I`` instrument codes."""
    from cadenza import CadenzaError
    from cadenza.files import read_text

    try:
        text = read_text(path, "kern text")
    except (CadenzaError, OSError):
        return {}
    got: dict[str, str] = {}
    codes: set[str] = set()  # *Ivioln: what Humdrum means by an instrument
    named: set[str] = set()  # *I:Violino I, *I"Violoncello: names, as the CCARH quartets write them
    title = ""
    for line in text.splitlines():
        if line.startswith("!!!COM:") and "composer" not in got:
            got["composer"] = composer_name(line[7:])
        elif line.startswith("!!!AST:") and "style" not in got:  # "renaissance, vocal": the period, first
            got["style"] = normalise(line[7:].split(",")[0]).lower()
        elif line.startswith("!!!OTL") and not title:
            title = line[7:].lower()
        elif line.startswith("*I"):
            for tok in line.split("\t"):
                if m := re.fullmatch(r"\*I([a-z]+)", tok):
                    codes.add(HUMDRUM_INSTRUMENTS.get(m.group(1), m.group(1)))
                elif (m := re.fullmatch(r"\*I[:\"]\s*([A-Za-z]+).*", tok)) and m.group(1).lower() in INSTRUMENT_WORDS:
                    named.add(INSTRUMENT_WORDS[m.group(1).lower()])
    # codes first, then names, then a title that names the ensemble (``!!!OTL: String Quartet No. 8``)
    instruments = codes or named or set(next((v for k, v in TITLE_ENSEMBLES.items() if k in title), ()))
    if instruments:
        got["instrument"] = "+".join(sorted(instruments))
    return {k: v for k, v in got.items() if v}


def from_music21(path: Path) -> dict[str, str]:
    """The composer of a file in music21's corpus: the folder it lies in under the corpus root."""
    try:
        from music21 import common

        rel = path.resolve().relative_to(Path(common.getCorpusFilePath()).resolve())
    except (ImportError, ValueError, OSError):
        return {}
    if len(rel.parts) < 2:
        return {}
    if rel.parts[0].lower() in FOLK_COLLECTIONS:
        return {"style": "folk"}
    if rel.parts[0].lower() in _M21_REPERTOIRES:
        return dict(_M21_REPERTOIRES[rel.parts[0].lower()])
    return {"composer": composer_name(rel.parts[0])}


def from_collection(path: Path, root: Path | None) -> dict[str, str]:
    """A folder of traditional tunes (``nottingham-folk``) anywhere on the path: style folk."""
    folders = [f.name.lower() for f in Path(path).resolve().parents]
    return {"style": "folk"} if any(f in FOLK_COLLECTIONS for f in folders) else {}


def from_composer(found: dict[str, str]) -> dict[str, str]:
    """The period of a composer already found (:data:`COMPOSER_PERIODS`)."""
    period = COMPOSER_PERIODS.get(found.get("composer", ""))
    return {"style": period} if period else {}


# folder names that say how files are stored, not whose music they hold
_STORAGE_FOLDERS = frozenset({"midi", "mid", "score", "scores", "gt_performance", "kern", "krn", "xml", "musicxml", "mxl", "abc", "data", "files"})


def from_folder(path: Path, root: Path | None, named: bool = False) -> dict[str, str]:
    """The folder ``path`` lies in, when that is below the source folder ``root`` or, with
    ``named`` (several folders were given by name: ``piano-midi/Chopin piano-midi/Mozart``), is
    that folder. Folders of traditional tunes and storage folders (``MIDI``, ``score``) name no one."""
    if root is None:
        return {}
    parent = path.resolve().parent
    if parent.name.lower() in _STORAGE_FOLDERS or parent.name.lower() in _M21_REPERTOIRES or from_collection(path, root):
        return {}
    # a folder given by name counts when it is a name (piano-midi/Chopin), not a description (mozart-piano-sonatas)
    below = root.resolve() in parent.parents or (named and parent == root.resolve() and re.fullmatch(r"[A-Za-z]+", parent.name) is not None)
    return {"composer": composer_name(parent.name)} if below else {}


def from_tracks(info: dict[str, Any]) -> dict[str, str]:
    """The instruments a MIDI codec read from the tracks (``info["instruments"]``), by family."""
    insts = info.get("instruments") if isinstance(info, dict) else None
    if not isinstance(insts, dict) or not insts:
        return {}
    names = sorted({INSTRUMENT_NAME.get(p, p).lower() for p in insts})
    return {"instrument": normalise("+".join(names))}


def read_labels(path: Path, root: Path | None, info: dict[str, Any], kinds: tuple[str, ...], named: bool = False) -> dict[str, str]:
    """The labels of ``kinds`` a piece from ``path`` (found under the source folder ``root``)
    carries, from the first source in the module docstring's order that names each."""
    if not kinds:
        return {}
    path = Path(path)
    found: dict[str, str] = {}
    sources = [lambda: from_metadata(path, root)]
    if path.suffix.lower() == ".krn":
        sources.append(lambda: from_kern(path))
    sources += [lambda: from_music21(path), lambda: from_collection(path, root), lambda: from_folder(path, root, named), lambda: from_tracks(info),
                lambda: from_composer(found)]
    for source in sources:
        if all(k in found for k in kinds):
            break
        for k, v in source().items():
            if k in kinds and v:
                found.setdefault(k, v)
    return found


def source_root(path: Path, roots: list[Path]) -> Path | None:
    """The source folder (of those given to ``prepare``) that ``path`` was found in, if any."""
    here = Path(path).resolve()
    best = None
    for r in roots:
        rr = r.resolve()
        if rr in here.parents and (best is None or len(rr.parts) > len(best.parts)):
            best = rr
    return best


def assign_labels(encoded: list[tuple[str, Any]], sources: list[str | Path], kinds: tuple[str, ...], min_pieces: int = 1) -> tuple[list[dict[str, str]], dict[str, dict[str, int]]]:
    """Per piece of ``encoded`` ((path, Encoded) pairs), its labels of ``kinds``, and per kind
    how many pieces carry each label. A label fewer than ``min_pieces`` pieces carry is left
    out (those pieces are unconditioned in that kind): a model cannot learn a composer from
    two pieces, and a musician should not be offered one."""
    from collections import Counter

    roots = [Path(s) for s in sources if not str(s).startswith("music21:") and Path(s).is_dir()]
    cache: dict[str, dict[str, str]] = {}
    labels = []
    for path, piece in encoded:
        key = path if "instruments" not in (piece.info or {}) else f"{path}\0{piece.name}"
        if key not in cache:
            cache[key] = read_labels(Path(path), source_root(Path(path), roots), piece.info or {}, kinds, named=len(roots) > 1)
        labels.append(dict(cache[key]))
    counts = {k: Counter(lab[k] for lab in labels if k in lab) for k in kinds}
    for lab in labels:
        for k in list(lab):
            if counts[k][lab[k]] < min_pieces:
                del lab[k]
    kept = {k: dict(sorted((v, n) for v, n in counts[k].items() if n >= min_pieces)) for k in kinds}
    return labels, kept
