"""Random streams for simulation: NumPy generators, and a stream that reproduces R's runif.

R's default generator is the Mersenne-Twister (MT19937) with its own seeding: `set.seed(s)`
scrambles the seed 50 times with the linear congruential map seed <- 69069 * seed + 1 (mod 2^32),
then fills 625 words with the same map; word 0 is the position (reset to 624, so the first
draw regenerates the state) and words 1..624 are the MT state. `unif_rand` multiplies each
32-bit output by 2^-32 and keeps the result strictly inside (0, 1). Rebuilding that state
in NumPy's MT19937 gives R's uniforms bit for bit, which lets a simulation reproduce R
packages (BOIN::get.oc) trial by trial. Nothing here touches global random state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from phaseone.errors import InputError, Problem

_MT_WORDS = 624
_LCG_MULT = 69069
_MASK32 = 0xFFFFFFFF
_TWO_M32 = 2.328306436538696289e-10  # 2^-32, as R's MT_genrand
_HALF_I2_32M1 = 0.5 * 2.328306437080797e-10  # R's fixup: half of 1 / (2^32 - 1)


class UniformSource(Protocol):
    """Anything that hands out uniforms in (0, 1), in order."""

    def uniforms(self, n: int) -> NDArray[np.float64]: ...


def r_mt_state(seed: int) -> NDArray[np.uint32]:
    """The 624-word MT19937 state that R's `set.seed(seed)` leaves behind."""
    if not -(2**31) < seed < 2**31:
        raise InputError([Problem("seed", f"R seeds are 32-bit integers, got {seed}")])
    s = seed & _MASK32
    for _ in range(50):
        s = (_LCG_MULT * s + 1) & _MASK32
    words = np.empty(_MT_WORDS + 1, dtype=np.uint32)
    for j in range(_MT_WORDS + 1):
        s = (_LCG_MULT * s + 1) & _MASK32
        words[j] = s
    return words[1:]


@dataclass
class RUniformStream:
    """R's `set.seed(seed); runif(...)` as a stream: successive calls continue the sequence."""

    seed: int
    _bitgen: np.random.MT19937 = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._bitgen = np.random.MT19937(0)
        self._bitgen.state = {
            "bit_generator": "MT19937",
            "state": {"key": r_mt_state(self.seed), "pos": _MT_WORDS},
        }

    def uniforms(self, n: int) -> NDArray[np.float64]:
        raw = np.asarray(self._bitgen.random_raw(n), dtype=np.uint64)
        u = raw.astype(np.float64) * _TWO_M32
        # R never returns 0 or 1 exactly (only 0 can occur from a 32-bit output).
        u[u <= 0.0] = _HALF_I2_32M1
        u[u >= 1.0] = 1.0 - _HALF_I2_32M1
        return u


@dataclass
class NumpyUniforms:
    """Uniforms from a NumPy Generator (the default, fast stream)."""

    generator: np.random.Generator

    def uniforms(self, n: int) -> NDArray[np.float64]:
        return self.generator.random(n)


def chunk_seeds(seed: int, n_chunks: int) -> list[np.random.SeedSequence]:
    """Independent, reproducible child streams, one per chunk of trials.

    Chunk k always gets the same child of `SeedSequence(seed)`, whichever machine runs it,
    so a distributed run equals a local run with the same seed.
    """
    if seed < 0:
        raise InputError([Problem("seed", f"expected a non-negative integer, got {seed}")])
    return np.random.SeedSequence(seed).spawn(n_chunks)
