"""The in-memory note model every codec meets in the middle, and fast MIDI I/O.

Times are in quarter notes (floats), so grids of 4 or 12 steps per quarter are exact and tempo
lives in one place (``Piece.tempos``), as in a score rather than in seconds as in a recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Note:
    start: float  # quarters from the beginning
    pitch: int  # MIDI number
    duration: float  # quarters
    velocity: int = 80


@dataclass
class Track:
    """One instrument. ``program`` is the General MIDI program (0 piano, 40 violin)."""

    name: str
    program: int = 0
    notes: list[Note] = field(default_factory=list)
    is_drum: bool = False


@dataclass
class Piece:
    tracks: list[Track] = field(default_factory=list)
    tempos: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, 120.0)])  # (quarter, qpm)
    time_signatures: list[tuple[float, int, int]] = field(default_factory=lambda: [(0.0, 4, 4)])
    name: str = ""

    @property
    def notes(self) -> list[Note]:
        return sorted(n for t in self.tracks for n in t.notes)

    @property
    def end(self) -> float:
        return max((n.start + n.duration for t in self.tracks for n in t.notes), default=0.0)
