"""Evaluation of a trained run: likelihood, validity, musical statistics, memorisation.

``evaluate(run, out)`` writes ``report.json``, ``report.md`` and ``report.html`` (figures embedded
as base64 PNGs, and written beside as files) into ``out``, plus the samples it judged in
``out/samples``. Every figure in the report is defined here, so the report and this docstring
say the same thing.

Likelihood (held-out **test** split of the run's dataset)
    Each test piece is scored from the model's empty state. Character codecs (kern) condition
    its first token on the separator ``"\\n"`` that precedes every piece in the training stream,
    so every token of the piece is scored; word codecs have no separator, so the first token of
    each piece is not scored. ``nats/token = total nats / tokens scored``;
    ``nats/note = total nats over the test split / number of notes in it`` (notes of the decoded
    pieces: tied notes count once, chord members each); ``nats/second = total nats / seconds of
    music``, a piece lasting ``sum over tempo segments of quarters x 60 / qpm`` up to the end of
    its last note (120 qpm where the piece sets no tempo). Bits = nats / ln 2.

Validity (``n_samples`` samples drawn with fixed seeds)
    *parsed*: kern samples that music21 parses; word codecs decode any text, so a sample
    counts as parsed when it decodes to at least one note. *bars* (kern): every bar position
    of the score; a bar matches when, in every part and every voice of the part, the music fills
    exactly the bar length of the metre (``highestTime == barDuration``). The first bar (pickup)
    and the last (its complement, or a cut-off ending) may be shorter, but must not be longer.
    *repaired/dropped*: the decoder's own counts (kern: lines repaired or dropped by
    :func:`cadenza.codecs.kern.restore`; notewise/chordwise: words dropped, notes repaired or
    left sounding).

Musical statistics (per piece; samples vs held-out excerpts of the same length)
    * pitch-class histogram (note counts, normalised) and its entropy in bits;
    * pitch range (highest - lowest MIDI pitch);
    * polyphony: mean number of notes sounding (start <= t < end) at each distinct onset t;
    * note-length and inter-onset-interval (IOI, between successive distinct onsets of all
      parts) histograms over the classes of :data:`LENGTH_CLASSES` (nearest on a log scale);
    * scale consistency: share of notes whose pitch class lies in the best-fitting of the 24
      major and natural-minor scales (as MusPy; a natural minor scale has its relative major's
      notes, so the share equals that major's; the report names the best major scale);
    * groove consistency (Wu & Yang 2020): ``1 - mean Hamming distance`` between the onset
      patterns of consecutive bars on a grid of 12 steps per quarter, normalised by the
      number of grid steps in a bar (bars from the time signatures);
    * empty-beat rate: share of beats (the time signature's denominator) in which no note sounds;
    * consonance: of the pairs of notes sounding together at each onset (at least one of the
      two starting there), the share whose interval mod 12 is a unison/octave (0), third (3, 4),
      fifth (7) or sixth (8, 9); the perfect fourth (5) counts as consonant only between two
      upper voices (neither note the lowest sounding), as in common-practice counterpoint;
    * notes per bar.

    The held-out pieces are cut into consecutive excerpts as long (in quarters) as the median
    sample, so length-dependent features (range, entropy) compare like with like.

    Headline similarity (Yang & Lerch 2018, "On the evaluation of generative models in music",
    Neural Comput. & Applic. 32): per feature, the *intra-set* distances (all pairs of held-out
    excerpts) and the *inter-set* distances (every sample against every excerpt); distance is
    Euclidean (absolute difference for scalars). Both distance sets are smoothed with a Gaussian
    KDE (``scipy.stats.gaussian_kde``, Scott's bandwidth; a set of one distance, or of equal
    distances, becomes a Gaussian of 10% of the pooled spread). *OA* = the overlapping area
    ``integral of min(p_intra, p_inter)`` (1 = samples as far from the held-out music as it is
    from itself) and *KL* = ``KL(p_intra || p_inter)``, both integrated on one grid spanning the
    two sets plus five bandwidths (mgeval integrates over the data range only). The headline
    is the mean OA over features.

Memorisation (transposition invariant, all parts)
    A piece becomes the sequence of its distinct onsets; each step from onset i-1 to onset i is
    one token: ``(IOI in 1/48 quarters, the pitches starting at onset i minus the highest pitch
    starting at onset i-1)``. Transposing a piece changes no token; chords and every voice are
    in it, so a match is a verbatim copy of the texture, not just of a tune. The training pieces
    (untransposed; their transposed copies give the same tokens) are indexed once: every
    position's next 8 tokens, sorted (a truncated suffix array), so the longest match starting at
    each sample position is found by binary search, and extended past 8 tokens by comparing the
    candidate occurrences. Reported per piece: the longest stretch found in training, in onsets,
    notes (all notes starting at those onsets) and bars (time from its first to its last onset /
    bar length), and the share of 4-bar windows (starting at every barline, at least two onsets)
    whose whole token sequence occurs in a training piece. The same for the held-out test pieces
    is the human baseline; a sample copying more than 9 in 10 test pieces do (a longer stretch in
    notes, or a larger window share, than their 90th percentile) is flagged, and a test piece
    sharing half its windows with training is reported as a likely duplicate across the split.

For kern the memorisation tokens come from :func:`kern_to_piece`, a fast reader of kern text
(a few ms a piece: the training set is too big for music21), applied alike to training, test and
sample texts; statistics and note counts use music21 (:func:`cadenza.music.m21.score_to_piece`).
"""

# This docstring is the "Method" section of every report (report.md, report.html), word for word:
# change a measure and its definition here together.

METHOD = (__doc__ or "").strip()
