"""Feeding latent uniforms to a vectorised engine.

Every simulated patient carries one latent uniform: a trial is a row of uniforms, and a
patient has a DLT at dose d when u < p_d. Two designs given the same rows are compared on
the same simulated patients (common random numbers).

With NumPy, rows are drawn up front, one independent stream per chunk of trials. With R's
stream, trial t starts where trial t - 1 stopped drawing, which is sequential by nature;
`r_stream_trials` recovers the trials without a per-trial loop: a runner plays a trial
starting at every possible offset of a stretch of the stream, then the chain offset ->
offset + uniforms used picks out the trials R would have run. The stretch is sized from
the mean number of uniforms the trials so far used, so that few offsets are played for
nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from phaseone.simulation.batch import TrialBatch
from phaseone.simulation.rng import RUniformStream

FIRST_STRETCH = 256  # trials in the first stretch, which learns the mean uniforms used

Runner = Callable[[NDArray[np.float64]], tuple[TrialBatch, NDArray[np.int64]]]
Taker = Callable[[NDArray[np.int64]], TrialBatch]
# (stream buffer, candidate starts in it) -> (uniforms each candidate uses, taker of rows)
StreamRunner = Callable[[NDArray[np.float64], NDArray[np.int64]], tuple[NDArray[np.int64], Taker]]


def numpy_rows(generator: np.random.Generator, trials: int, width: int) -> NDArray[np.float64]:
    return generator.random((trials, width))


def window_runner(run: Runner, width: int) -> StreamRunner:
    """A stream runner from an engine that takes one row of `width` uniforms per trial."""

    def play(
        buffer: NDArray[np.float64], starts: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], Taker]:
        windows = np.lib.stride_tricks.sliding_window_view(buffer, width)[starts]
        batch, used = run(windows)
        return used, batch.take

    return play


def r_stream_trials(
    run: StreamRunner, seed: int, n_trials: int, width: int, step: int, window_trials: int = 4096
) -> TrialBatch:
    """Trials as R runs them after `set.seed(seed)`, drawing `width` uniforms at most per trial.

    `step` divides every possible number of uniforms a trial uses, so trial starts fall on
    multiples of it.
    """
    stream = RUniformStream(seed)
    buffer = np.empty(0, dtype=np.float64)
    base = 0  # stream position of buffer[0]
    offset = 0  # stream position where the next trial starts
    parts: list[TrialBatch] = []
    done = 0
    mean_used = float(width)  # until trials have run
    first = True
    while done < n_trials:
        # A small first stretch learns how many uniforms a trial uses on average.
        want = min(FIRST_STRETCH if first else window_trials, n_trials - done)
        first = False
        # Offsets to play: enough for `want` trials of the mean length seen so far, plus
        # a margin; any shortfall is made up by the next stretch.
        span = min(want * width, step * math.ceil(want * mean_used * 1.05 / step) + width)
        need = offset - base + span + width
        if buffer.size < need:
            buffer = np.concatenate([buffer, stream.uniforms(need - buffer.size)])
        rel0 = offset - base
        starts = np.arange(rel0, rel0 + span, step, dtype=np.int64)
        used, take = run(buffer, starts)
        picked = _chain(used, step, want)
        parts.append(take(picked))
        rel = rel0 + int(used[picked].sum())
        done += picked.size
        mean_used = float(used[picked].mean())
        offset = base + rel
        buffer, base = buffer[rel:], offset
    return TrialBatch.concat(parts)


def _chain(used: NDArray[np.int64], step: int, want: int) -> NDArray[np.int64]:
    """Indices of the candidates on the chain from candidate 0 (at most `want`): the next
    trial starts where this one stopped drawing. Found by pointer doubling: after round r
    the first 2^r trials of the chain are known, and the jump table covers 2^r trials."""
    end = used.size
    jump = np.append(np.minimum(np.arange(end) + used // step, end), end)  # `end`: off the stretch
    picked = np.zeros(1, dtype=np.int64)
    while picked.size < want and picked[-1] < end:
        picked = np.concatenate([picked, jump[picked]])
        jump = jump[jump]
    return picked[picked < end][:want]


def offset_step(cohort_size: int, titration_draws: int) -> int:
    return math.gcd(cohort_size, titration_draws) if titration_draws else cohort_size
