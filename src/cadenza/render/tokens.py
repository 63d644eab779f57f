"""A sample's token text (``sample.txt``, what a model wrote) -> a music file, through the codec
of the run that wrote it, so it can be rendered like any other file. The text alone does not say
how to read it (kern characters, notewise words, chordwise grids): the run does."""

from __future__ import annotations

from pathlib import Path

from cadenza import CadenzaError


def tokens_to_file(path: Path, run: str | None, out_dir: Path | None = None, formats: list[str] | tuple[str, ...] = (), overwrite: bool = False) -> Path:
    """Decode the token text ``path`` with ``run``'s codec (a run folder or a bundled model's
    name; its weights are not read) into ``<out_dir or beside>/<stem>.krn`` (or ``.mid`` for a
    MIDI codec) and return that file. Without ``overwrite``, refuses when that file or one that
    rendering it into ``formats`` would write already exists."""
    from cadenza.files import read_text
    from cadenza.generation.run import open_run
    from cadenza.render.convert import destinations

    if run is None:
        raise CadenzaError(f"{path}: token text needs --run RUN (or --model NAME) to know its codec")
    if not path.is_file():
        raise CadenzaError(f"{path}: no such file")
    text = read_text(path, "token text")  # UTF-8, or Latin-1; empty and binary files refused
    trained = open_run(run)
    decoded = trained.codec.decode(text, trained.context)
    stem = (out_dir or path.parent) / path.stem
    if not overwrite:  # the decoded sample, and what is rendered from it
        taken = [p for p in [stem.with_name(stem.name + ".krn"), stem.with_name(stem.name + ".mid")] + destinations(stem, list(formats)) if p.exists()]
        if taken:
            raise CadenzaError(f"{path}: {taken[0]} exists; pass --force to replace, or -o another folder")
    stem.parent.mkdir(parents=True, exist_ok=True)
    files = trained.codec.export(decoded, stem, ("krn", "mid"))
    return files.get("krn") or files["mid"]
