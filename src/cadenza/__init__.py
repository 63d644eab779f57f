"""Cadenza: turn a corpus of scores into a composer.

Data flows one way: files -> pieces -> tokens -> model -> tokens -> pieces -> files.
Each stage has a module and a function of the same name as its CLI command:
:func:`cadenza.data.prepare`, :func:`cadenza.training.train`, :func:`cadenza.generation.generate`.
"""

__version__ = "0.1.0"


class CadenzaError(Exception):
    """An error a user can act on: the message names the file and the problem in one line."""
