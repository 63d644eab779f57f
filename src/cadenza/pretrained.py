"""Transitional alias: the bundled models' registry now lives in :mod:`cadenza.models.pretrained`
(the weights stay in the package data folder ``cadenza/pretrained/``). Removed once every import
says so."""

from cadenza.models.pretrained import DEFAULT, ROOT, available, package, resolve  # noqa: F401
