"""Which characters may come next: a pure function of the grammar and the checker's state key
(see :meth:`cadenza.codecs.kern.checker.KernChecker._cur_key`), computed once per key and
vocabulary and cached in the grammar, so a sampled character costs a dictionary look-up."""

from __future__ import annotations

from cadenza.music.humdrum.clefs import run_in_range
from cadenza.codecs.kern.grammar import RUN_CAP, _Grammar
from cadenza.music.humdrum.spines import PITCH_LETTERS

PREFIX_CHARS = frozenset("([&<>{/\\)")  # what may open a note before its duration (prefix_next)


def prefix_next(pre: str, nok: bool) -> set[str]:
    """Prefix characters allowed after prefix ``pre`` (see the module grammar)."""
    if pre.endswith("&"):
        return {"("}
    out = set()
    n_paren = pre.count("(")
    if n_paren < 2:
        out.add("(")
        if "&" not in pre:
            out.add("&")
    if pre == "(":
        out.add(")")
    if "{" not in pre:
        out.add("{")  # "()": a slur ends and the next starts on this note
    if "[" not in pre and nok:
        out.add("[")
    if pre.count("<") + pre.count(">") < 2:
        out.update("<>")
    if "/" not in pre and "\\" not in pre:
        out.update("/\\")
    return out


def dur_set(g: _Grammar, nok: bool, gok: bool, avail: int, forced: str | None) -> frozenset[str]:
    """Durations a note may take: a chord's forced one, those that fit the bar, any grace one."""
    if forced is not None:
        return frozenset((forced,))
    s: frozenset[str] = frozenset()
    if nok:
        s = g.fits(avail)
    if gok:
        s = s | g.all_durs
    return s


def interp_options(g: _Grammar, ctx: tuple) -> frozenset[str]:
    """Interpretation tokens a column may take in context ``ctx`` (``KernChecker._interp_ctx``)."""
    got = g._interp_opts.get(ctx)
    if got is not None:
        return got
    if ctx[0] is not None:
        opts = {ctx[0]}
    else:
        _, null_ok, other_ok, split_ok, v_ok, x_ok, glob, _ = ctx
        opts = set()
        if null_ok:
            opts.add("*")
        if split_ok and "*^" in g.manips:
            opts.add("*^")
        if v_ok and "*v" in g.manips:
            opts.add("*v")
        if x_ok and "*x" in g.manips:
            opts.add("*x")
        if other_ok:
            opts |= g.others
            if glob is not None:
                opts |= set(g.meters)
                opts |= {t for t, m in g.met.items() if m == glob}
    got = g._interp_opts[ctx] = frozenset(opts)
    return got


def chars_for(g: _Grammar, key: tuple) -> frozenset[str]:
    """The characters allowed in the state ``key`` (``KernChecker._cur_key``), within the vocabulary."""
    kind = key[0]
    out: set[str] = set()
    if kind == "L":
        _, bar_ok, star_ok, *ctx = key
        if bar_ok:
            out.add("@")
        if star_ok:
            out.add("*")
        out |= chars_for(g, ("T", *ctx))
    elif kind == "B":
        out.add("\n")
    elif kind == "N":
        out.add("\n" if key[1] else "\t")
    elif kind == "T":
        _, null, nok, gok, avail, is_last = key
        if null:
            out.add(".")
        if nok or gok:
            out |= chars_for(g, ("R", "", nok, gok, avail, None))
    elif kind == "R":
        _, pre, nok, gok, avail, forced = key
        out |= prefix_next(pre, nok)
        if not pre.endswith("&"):
            for s in dur_set(g, nok, gok, avail, forced):
                if s:
                    out.add(s[0])
            if forced is not None or gok and "[" not in pre:
                # chord notes may leave out the duration; grace notes may have none
                out |= g.letters
    elif kind == "D":
        _, p, nok, gok, avail, forced, rest_ok = key
        S = dur_set(g, nok, gok, avail, forced)
        lp = len(p)
        for s in S:
            if len(s) > lp and s.startswith(p):
                out.add(s[lp])
        if p in S:
            out |= g.letters
            if rest_ok and g.has_rest and nok and forced is None and p in g.fits(avail) and not (rest_ok == 2 and g.ticks[p] == avail):
                out.add("r")
            out.add("P")
            if gok and p in g.all_durs:
                out.add("q")
    elif kind == "M":  # grace marks written before the pitch: 16qa, 32Pqqbb
        _, suf, gok = key
        out |= g.letters
        if gok and suf.count("q") < 2:
            out.add("q")
        if "P" not in suf:
            out.add("P")
    elif kind == "P":
        _, rl, rc, rest, acc, sk, nok, gok, bend, topen, bd_open, bd_room, hasbr, chord_ok, is_last, _, crange = key
        if rest:
            if acc == "":
                if rl is None:
                    out |= g.letters
                elif rc < RUN_CAP[rl]:
                    out.add(rl)
        else:
            if rl is not None and rc < RUN_CAP[rl] and run_in_range(rl, rc + 1, crange):
                out.add(rl)
            if acc == "":
                out |= g.acc_chars
            elif acc in ("#", "-"):
                out.add(acc)
        skey = (sk, rest, nok, gok, bend, topen, bd_open, bd_room, hasbr)
        sp = g.suffix_parts.get(skey)
        if sp is None:
            sp = g.suffix_parts[skey] = suffix_part(g, *skey)
        out |= sp
        q = "q" in sk
        if q or nok:
            if chord_ok:
                out.add(" ")
            if not (not q and bend and bd_open):
                out.add("\n" if is_last else "\t")
    elif kind == "I":
        _, ctx, p = key
        opts = interp_options(g, ctx)
        lp = len(p)
        for s in opts:
            if len(s) > lp and s.startswith(p):
                out.add(s[lp])
        if p in opts:
            out.add("\n" if ctx[-1] else "\t")
    if g.shapes is not None and kind in "RDMP":
        return narrow(g, key, frozenset(c for c in out if c in g.V)) or frozenset(c for c in out if c in g.V)
    return frozenset(c for c in out if c in g.V)


def narrow(g: _Grammar, key: tuple, out: frozenset[str]) -> frozenset[str]:
    """The generation grammar: of the characters ``out`` the lenient grammar allows, those that
    keep the token's prefix and suffix shapes the corpus's (:mod:`cadenza.codecs.kern.shapes`).
    Empty where no corpus shape fits what the bar needs; the caller then keeps ``out``, so the
    sampler is never stuck."""
    sh = g.shapes
    kind = key[0]
    if kind == "R":
        pre = key[1]
        done = pre in sh.note_prefixes
        return frozenset(c for c in out if ((pre + c in sh.note_prefix_open) if c in PREFIX_CHARS else done))
    if kind == "D":
        return frozenset(c for c in out if c not in "qP" or c in sh.note_suffix_open)
    if kind == "M":
        suf = key[1]
        return frozenset(c for c in out if c not in "qP" or suf + c in sh.note_suffix_open)
    rest, suf = key[3], key[-2]
    opn, full = (sh.rest_suffix_open, sh.rest_suffixes) if rest else (sh.note_suffix_open, sh.note_suffixes)
    keep = set()
    for c in out:
        if c in " \t\n":
            ok = suf in full
        elif c in PITCH_LETTERS:
            ok = not rest  # no display positions (``4rGG``) on generated rests
        elif c in "#-n" and suf == "":
            ok = True
        else:
            ok = suf + c in opn
        if ok:
            keep.add(c)
    return frozenset(keep)


def suffix_part(g: _Grammar, sk: str, rest: bool, nok: bool, gok: bool, bend: bool, topen: bool,
                bd_open: bool, bd_room: bool, hasbr: bool) -> frozenset[str]:
    """Suffix signifiers allowed after a note's pitch (caps, beams, ties, grace marks)."""
    # sk: the signifiers used up (count at cap), "|", then which of q, L, J are present
    exh, flags = sk.split("|")
    out = []
    q = "q" in flags
    tie_marks = "]" in exh or "_" in exh
    for c, cap in g.suffix:
        if c in exh:
            continue
        if c == "L":
            ok = bd_room and "J" not in flags and not (not q and nok and bend)
        elif c == "J":
            ok = bd_open and "L" not in flags
        elif c == "]" or c == "_":
            ok = not q and not rest and nok and topen and not hasbr and not tie_marks
        elif c == "q":
            ok = gok and not hasbr and not tie_marks and not rest
        elif c == "/":
            ok = "\\" not in exh
        elif c == "\\":
            ok = "/" not in exh
        else:
            ok = True
        if ok:
            out.append(c)
    return frozenset(out)
