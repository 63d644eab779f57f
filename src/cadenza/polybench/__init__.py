"""The standard polyphonic-music benchmark (Boulanger-Lewandowski, Bengio & Vincent, 2012):
binary piano rolls of JSB Chorales, Nottingham, Piano-midi.de and MuseData, scored in negative
log-likelihood per frame. It has its own frame models and training loop, apart from Cadenza's
token models, so it lives apart from ``evaluation/``:

* :mod:`.frames`: the corpora, the frame models (LSTM, TCN) and the NLL convention;
* :mod:`.run`: training and scoring one corpus (``cadenza benchmark poly``), loading a finished run.

Floor 8 (beside ``evaluation/``): imports only ``cadenza.files`` and the errors.
"""
