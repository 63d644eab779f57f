"""The pieces an evaluation reads from a run's dataset: each split cut back into its pieces,
each piece decoded into the two forms the measures need (a music21-read piece for statistics
and note counts, a fast-read one for memorisation) with its validity."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cadenza import CadenzaError
from cadenza.music.humdrum.to_piece import kern_to_piece
from cadenza.evaluation.validity import error_text, kern_validity
from cadenza.music import Piece


@dataclass
class HeldOut:
    """One piece of the dataset: its codec text, record, and decoded forms."""

    name: str
    text: str
    row: dict[str, Any]
    piece: Piece | None = None  # for statistics and note counts (music21 for kern)
    fast: Piece | None = None  # for memorisation (kern_to_piece for kern)
    validity: dict[str, Any] = field(default_factory=dict)


def split_pieces(dataset: Path, split: str, unit: str) -> list[tuple[str, dict[str, Any]]]:
    """(codec text, pieces.jsonl record) of each piece of ``split``, in file order. Pieces are cut
    by their recorded token counts (a char codec's pieces are separated by one "\\n", a word
    codec's by a line break, which splitting on whitespace drops)."""
    from cadenza.data.dataset import load_pieces, load_split

    text = load_split(dataset, split)
    rows = load_pieces(dataset, split)
    out = []
    if unit == "char":
        pos = 0
        for r in rows:
            out.append((text[pos : pos + r["tokens"]], r))
            pos += r["tokens"] + 1
        if "\n".join(t for t, _ in out) != text:
            chunks = [c + "\n" for c in text.rstrip("\n").split("\n\n")] if text.strip() else []
            if len(chunks) != len(rows):
                raise CadenzaError(f"{dataset}: {split}.txt does not match pieces.jsonl ({len(chunks)} pieces, {len(rows)} records)")
            out = list(zip(chunks, rows))
    else:
        lines = [l for l in text.split("\n") if l.strip()]
        if len(lines) == len(rows):
            out = list(zip(lines, rows))
        else:
            toks = text.split()
            pos = 0
            for r in rows:
                out.append((" ".join(toks[pos : pos + r["tokens"]]), r))
                pos += r["tokens"]
    return out


def find_dataset(config: dict[str, Any], run: Path, rejected: list[str] | None = None) -> Path | None:
    """The run's dataset folder (one holding manifest.json) whose codec, codec options and
    vocabulary are the model's, or None where it is gone. A folder of the right name that does
    not match (another dataset prepared under the same name) is passed over, never silently
    scored against; why goes into ``rejected``."""
    ds = config.get("dataset")
    if not ds:
        return None
    # bundled models record only the dataset's folder name: `make models` writes it to data/
    for cand in dict.fromkeys((Path(ds), run / ds, run.parent / ds, Path("data") / Path(ds).name)):
        if (cand / "manifest.json").exists():
            why = dataset_mismatch(config, cand)
            if why is None:
                return cand
            if rejected is not None:
                rejected.append(f"{cand}: {why}")
    return None


def _options(codec: str | None, options: dict[str, Any] | None) -> dict[str, Any]:
    """Codec options with the codec's defaults filled in: a dataset prepared by a newer Cadenza
    records options an older model's config leaves out (``layouts``), with the same meaning."""
    from cadenza.codecs import get_codec, options_dict

    try:
        return options_dict(get_codec(str(codec), options or {}))
    except Exception:  # an unknown codec or option: compare as written
        return dict(options or {})


def dataset_mismatch(config: dict[str, Any], dataset: Path) -> str | None:
    """Why ``dataset`` is not the one the model in ``config`` was trained on, or None."""
    import json

    from cadenza.codecs.fim import sentinels

    try:
        manifest = json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))
        vocab = json.loads((dataset / "vocab.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"unreadable ({' '.join(str(exc).split())[:120]})"
    if not isinstance(manifest, dict):
        return "manifest.json is not a JSON object"
    if manifest.get("codec") != config.get("codec"):
        return f"a {manifest.get('codec')} dataset; the model is {config.get('codec')}"
    if _options(manifest.get("codec"), manifest.get("options")) != _options(config.get("codec"), config.get("codec_options")):
        return f"codec options {manifest.get('options')} differ from the model's {config.get('codec_options')}"
    model_vocab = config.get("vocab") or []
    if isinstance(vocab, list) and model_vocab[: len(vocab)] == vocab and all(t in sentinels("char") + sentinels("word") for t in model_vocab[len(vocab) :]):
        vocab = model_vocab  # trained to fill in the middle: the dataset's tokens, then the sentinels
    if vocab != model_vocab:
        return f"its vocabulary ({len(vocab) if isinstance(vocab, list) else '?'} tokens) is not the model's ({len(config.get('vocab') or [])})"
    return None


def decode_piece(codec, text: str, context: dict[str, Any], name: str, kern: str | None = None) -> tuple[Piece | None, Piece | None, dict[str, Any]]:
    """(statistics piece, memorisation piece, validity) of one codec text. A codec that writes
    its own score (kern) has it read twice: by music21 (validity, statistics) and by
    :func:`kern_to_piece` (memorisation). ``kern``: the score the sampler wrote (it may declare
    the metre the sampler adopted), used as is."""
    decoded = codec.decode(text, context) if kern is None else None
    score = kern if decoded is None else decoded.score
    if score is None:  # the codec's music is its piece
        piece = decoded.piece  # type: ignore[union-attr]
        piece.name = piece.name or name
        ok = any(t.notes for t in piece.tracks)
        return piece, piece, {"parsed": ok, **({} if ok else {"error": "no notes"})}
    from cadenza.music.m21 import score_to_piece

    v = kern_validity(score)
    parsed = v.pop("score")
    stats_piece = None
    if parsed is not None:
        try:
            stats_piece = score_to_piece(parsed, name)
        except Exception as exc:  # a score music21 reads but we cannot walk: no statistics
            v["error"] = f"notes unreadable: {error_text(exc)}"[:200]
    return stats_piece, kern_to_piece(score, name), v


def fast_piece(codec, text: str, info: dict[str, Any], name: str) -> Piece:
    """The memorisation form of one dataset piece."""
    piece = codec.decode(text, info).piece
    piece.name = name
    return piece


def read_test_pieces(dataset: Path, codec, max_pieces: int, say: Callable[[str, int, int], None]) -> list[HeldOut]:
    """The test split's pieces (the first ``max_pieces``; 0: all), decoded. A piece the decoder
    cannot read is kept with its error, to be reported, not fatal."""
    pieces = split_pieces(dataset, "test", codec.unit)
    if max_pieces:
        pieces = pieces[:max_pieces]
    test: list[HeldOut] = []
    for i, (text, row) in enumerate(pieces):
        say("reading test pieces", i, len(pieces))
        h = HeldOut(row["name"], text, row)
        try:
            h.piece, h.fast, h.validity = decode_piece(codec, text, row.get("info") or {}, row["name"])
        except CadenzaError:
            raise
        except Exception as exc:  # a held-out piece the decoder cannot read is reported, not fatal
            h.validity = {"parsed": False, "error": error_text(exc)}
        test.append(h)
    say("reading test pieces", len(pieces), len(pieces))
    return test
