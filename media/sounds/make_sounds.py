"""Make the kiosk's beeps and chime: `python media/sounds/make_sounds.py [FOLDER]`.

The sounds are generated, not recorded, so anyone can remake them bit for bit and see
exactly what they are. Standard library only (wave + math). They are mono 16-bit at
22050 Hz, the rate espeak-ng speaks at, so the voice and the beeps share one format.
"""

from __future__ import annotations

import math
import sys
import wave
from array import array
from pathlib import Path
from typing import Iterable, List, Sequence, Tuple

SAMPLE_RATE = 22050
FULL_SCALE = 32767

BEEP_HZ = 880.0
"""A5: clear on small speakers, not shrill."""
BEEP_SECONDS = 0.12
BEEP_LEVEL = 0.6

CHIME_NOTES: Tuple[Tuple[float, float], ...] = ((0.0, 1046.50), (0.16, 1318.51), (0.32, 1567.98))
"""(start seconds, frequency): a rising C-major arpeggio, C6 E6 G6."""
CHIME_SECONDS = 1.2
CHIME_LEVEL = 0.5
CHIME_DECAY_PER_S = 4.0
CHIME_PARTIALS: Tuple[Tuple[float, float], ...] = ((1.0, 1.0), (2.0, 0.35), (3.0, 0.12))
"""(multiple of the note, relative level): a few harmonics make it bell-like."""

EDGE_SECONDS = 0.005
"""Raised-cosine fade in and out, so no sound starts or ends with a click."""


def _edges(index: int, length: int) -> float:
    edge = max(1, int(EDGE_SECONDS * SAMPLE_RATE))
    if index < edge:
        return 0.5 - 0.5 * math.cos(math.pi * index / edge)
    if index >= length - edge:
        return 0.5 - 0.5 * math.cos(math.pi * (length - 1 - index) / edge)
    return 1.0


def beep_samples() -> List[int]:
    """The count-down beep: a short pure tone."""
    length = int(BEEP_SECONDS * SAMPLE_RATE)
    return [
        _to_int(BEEP_LEVEL * _edges(i, length) * math.sin(2 * math.pi * BEEP_HZ * i / SAMPLE_RATE))
        for i in range(length)
    ]


def chime_samples() -> List[int]:
    """The end-of-session chime: three decaying bell notes, one after the other."""
    length = int(CHIME_SECONDS * SAMPLE_RATE)
    partials_sum = sum(level for _, level in CHIME_PARTIALS)
    samples = []
    for i in range(length):
        t = i / SAMPLE_RATE
        value = 0.0
        for start, frequency in CHIME_NOTES:
            if t < start:
                continue
            into = t - start
            decay = math.exp(-CHIME_DECAY_PER_S * into)
            for multiple, level in CHIME_PARTIALS:
                value += level * decay * math.sin(2 * math.pi * frequency * multiple * into)
        samples.append(_to_int(CHIME_LEVEL * _edges(i, length) * value / partials_sum))
    return samples


def _to_int(value: float) -> int:
    return max(-FULL_SCALE, min(FULL_SCALE, int(round(value * FULL_SCALE))))


def write_wav(path: Path, samples: Iterable[int]) -> None:
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(data.tobytes())


SOUNDS = {"beep.wav": beep_samples, "chime.wav": chime_samples}


def main(argv: Sequence[str]) -> int:
    folder = Path(argv[0]) if argv else Path(__file__).resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in SOUNDS.items():
        write_wav(folder / name, make())
        print(f"wrote {folder / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
