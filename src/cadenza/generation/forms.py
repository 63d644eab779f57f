"""Forms such as AAB or ABA: phrases sampled, repeated exactly, or varied, for every codec.

A codec measures phrases in its own units (:meth:`~cadenza.codecs.Codec.phrase_grid`: bars for
kern, grid steps for the MIDI codecs) and says where a phrase may end (``reach``, ``reached``,
``cut``), so one sampler serves them all.
"""

from __future__ import annotations

from typing import Any, Callable

from cadenza import CadenzaError
from cadenza.codecs import Codec
from cadenza.generation.decode import sample_ids
from cadenza.generation.filters import SamplingOptions


def parse_form(form: str) -> list[str]:
    """``"AAB"`` -> ``["A", "A", "B"]``; letters only, the first must start a new phrase."""
    form = form.strip().upper()
    if not form or not form.isalpha():
        raise CadenzaError(f"--form {form!r}: use letters such as AAB, ABA or AABA")
    return list(form)


def form_plan(form: list[str]) -> list[tuple[str, str]]:
    """What to do for each section: ``("new", L)`` sample fresh material, ``("repeat", L)`` copy
    phrase L exactly, ``("vary", L)`` start like L's opening half then continue into new material.

    The varied start is the "sentence" seed 2 wished for: a phrase, its exact repetition, then a
    third statement that begins the same way and goes somewhere new. A new letter right after an
    exact repetition gets it (AAB: A, A, then B opening like A); otherwise a new letter is free.
    """
    plan: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, letter in enumerate(form):
        if letter in seen:
            plan.append(("repeat", letter))
        elif i >= 2 and form[i - 1] == form[i - 2] and plan[i - 1][0] == "repeat":
            plan.append(("vary", form[i - 1]))
        else:
            plan.append(("new", letter))
        seen.add(letter)
    return plan


def sample_form(
    model: Any,
    prime: list[int],
    vocab: list[str],
    codec: Codec,
    context: dict[str, Any],
    form: str,
    phrase_bars: int,
    opt: SamplingOptions,
    seed: int,
    n: int = 1,
    progress: Callable[[int, int], None] | None = None,
    make_constraint: Callable[[int, list[int]], Any] | None = None,
) -> tuple[list[list[int]], list[list[dict[str, Any]]], list[int]]:
    """Sample ``n`` pieces in a form such as AAB: returns the ids, per sample the phrases (letter,
    how made, first and last bar), and per sample the steps the constraint forced."""
    if phrase_bars < 1:
        raise CadenzaError("--phrase-bars must be at least 1")
    if codec.bar_token is not None and codec.bar_token not in vocab:
        raise CadenzaError(f"--form needs a kern model (bars are marked by {codec.bar_token!r})")
    plan = form_plan(parse_form(form))
    letters = form.strip().upper()
    grid = codec.phrase_grid(phrase_bars, context)
    stoi = {t: i for i, t in enumerate(vocab)}

    def tokens(ids: list[int]) -> list[str]:
        return [vocab[j] for j in ids]

    def cut(ids: list[int], units: int) -> list[int]:
        return [stoi[t] for t in codec.cut(tokens(ids), units, vocab)]

    out_ids, out_marks, out_forced = [], [], []
    for i in range(n):
        text = list(prime)
        phrases: dict[str, list[int]] = {}
        marks = []
        at = forced = 0  # units written so far; steps the constraint forced
        for j, (how, letter) in enumerate(plan):
            if how == "repeat":
                section = list(phrases[letter])
            else:
                start = cut(phrases[letter], grid.opening) if how == "vary" else []
                left = grid.length - codec.reach(tokens(start))
                cont: list[int] = []
                if left > 0:
                    done = lambda rows: codec.reached(tokens(rows[0]), left)  # noqa: E731
                    con = make_constraint(1, text + start) if make_constraint else None
                    got = sample_ids(model, text + start, 1, max(64, left * grid.tokens_per_unit), opt, seed * 1000 + i * 31 + j, None, done, con)[0]
                    forced += con.forced[0] if con else 0
                    cont = cut(got, left)
                section = start + cont
                phrases.setdefault(letters[j], section)
            span = codec.reach(tokens(section)) if grid.measured else grid.length
            marks.append({"phrase": letters[j], "made": how, "first_bar": at // grid.per_bar + 1, "last_bar": (at + span) // grid.per_bar})
            at += span
            text += section
            if progress:
                progress(i * len(plan) + j + 1, n * len(plan))
        out_ids.append(text[len(prime) :])
        out_marks.append(marks)
        out_forced.append(forced)
    return out_ids, out_marks, out_forced


def mark_phrases(kern: str, marks: list[dict[str, Any]]) -> str:
    """Insert a ``!!phrase`` comment line before the barline that opens each phrase."""
    starts = {m["first_bar"]: m for m in marks}
    out = []
    for line in kern.split("\n"):
        head = line.split("\t")[0]
        if head.startswith("=") and head[1:].rstrip("-").isdigit() and int(head[1:].rstrip("-")) in starts:
            m = starts[int(head[1:].rstrip("-"))]
            out.append(f"!!phrase {m['phrase']} ({m['made']}) bars {m['first_bar']}-{m['last_bar']}")
        out.append(line)
    return "\n".join(out)
