"""``cadenza models`` and ``cadenza codecs``: what comes in the box."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from cadenza.cli.common import console, warn


def models() -> None:
    """List the bundled pretrained models: what they learned from, size, quality and licence."""
    from cadenza.models.pretrained import DEFAULT, available

    t = Table(title="Bundled models (use --model NAME; * the default)", box=box.SIMPLE_HEAD, show_edge=False)
    for c in ("name", "codec", "params", "MB", "bits/token", "infill", "labels"):
        t.add_column(c, no_wrap=True)
    found = available()
    for name, info in found.items():
        if "error" in info:
            t.add_row(name, "-", "-", str(info.get("size_mb")), "-", "-", Text("unreadable", style="red"))
            continue
        bits = info.get("test_bits_per_token")
        labels = model_labels(info.get("path"))
        params = info.get("params", 0)
        t.add_row(name + (" *" if name == DEFAULT else ""), info.get("codec", ""), f"{params / 1e6:.2f}M" if params >= 1e6 else f"{params / 1e3:.0f}k",
                  str(info.get("size_mb")), f"{bits:.3f}" if bits is not None else "-", "yes" if info.get("infill") else "no",
                  ", ".join(f"{len(v)} {k}" for k, v in labels.items()) or "-")
    console.print(t)
    console.print("bits/token: held-out test pieces read whole (codecs differ: compare within one codec)")
    for name, info in found.items():
        if "error" in info:
            warn(info["error"])
            continue
        console.print(Text.assemble((name, "bold"), f": {info.get('trained_on', '')}; trained {trained(info)}; licence: {info.get('licence', '')}"))
        for kind, values in model_labels(info.get("path")).items():
            console.print(f"  --{kind}: {', '.join(values)}")


def trained(info: dict) -> str:
    """How long a model trained, and on what: "37 min, 1 CPU thread"."""
    minutes = info.get("train_minutes")
    hardware = str(info.get("hardware") or "one CPU thread").replace("one ", "1 ")
    return f"{minutes:g} min, {hardware}" if isinstance(minutes, (int, float)) else "-"


def model_labels(folder: str | None) -> dict[str, list[str]]:
    """The labels a model folder's run was conditioned on ({}: none, or an unreadable config)."""
    import json
    from pathlib import Path

    from cadenza.codecs.labels import known_labels

    try:
        config = json.loads((Path(folder or "") / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known_labels(config.get("context") if isinstance(config, dict) else None)


def codecs() -> None:
    """List the available encodings."""
    from cadenza.codecs import available, get_codec

    for name in available():
        c = get_codec(name)
        console.print(f"{name:10s} unit={c.unit:5s} reads {' '.join(c.suffixes)}  options: {c.options}")
