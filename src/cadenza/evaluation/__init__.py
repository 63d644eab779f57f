"""Evaluation of a trained run.

``evaluate(run, out)`` (:mod:`.pipeline`) writes ``report.json``, ``report.md`` and
``report.html`` into ``out``; :mod:`.method` defines every number in it (its docstring is the
report's "Method" section). The measures, one idea per file:

* :mod:`.pieces`: notes, onsets, bars, seconds and excerpts of a :class:`~cadenza.music.Piece`;
* :mod:`.heldout`: the dataset's test pieces, decoded for the measures;
* :mod:`.likelihood`: nats per token, note and second on the held-out pieces;
* :mod:`.infill_likelihood`: the same middles read with the bars after them (fill in the middle)
  and without: how much ``cadenza infill`` gains from seeing ahead;
* :mod:`.samples`: drawing the judged samples and decoding them;
* :mod:`.validity`: kern parsing and bar checks, the decoders' repairs;
* :mod:`.features`: the musical statistics of one piece (the :data:`~.features.FEATURES` table);
* :mod:`.similarity`: Yang & Lerch's intra/inter-set overlap of two sets of pieces;
* :mod:`.training_index` and :mod:`.memorisation`: verbatim copies from the training set;
* :mod:`.composer_judge`: does ``--composer Chopin`` write like Chopin? A classifier trained on
  real music judges the samples;
* :mod:`.chords`: do the samples follow the chords asked for;
* :mod:`.report`: the document, written as Markdown and HTML, and its figures;
(The polyphonic piano-roll benchmark, with its own frame models and loop, is :mod:`cadenza.polybench`;
bundling a run as a shipped model is :mod:`cadenza.bundle`.)

Floor 8: may import ``cadenza.files``, ``music``, ``codecs``, ``data`` (the corpus),
``models``, ``training`` and ``generation``; never ``cli``.
"""

from __future__ import annotations

from cadenza.evaluation.pipeline import EvaluationOptions, evaluate

__all__ = ["EvaluationOptions", "evaluate"]
