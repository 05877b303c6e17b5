"""Feeding latent uniforms to a vectorised engine.

Every simulated patient carries one latent uniform: a trial is a row of uniforms, and a
patient has a DLT at dose d when u < p_d. Two designs given the same rows are compared on
the same simulated patients (common random numbers).

With NumPy, rows are drawn up front, one independent stream per chunk of trials. With R's
stream, trial t starts where trial t - 1 stopped drawing, which is sequential by nature;
`r_stream_rows` recovers the rows without a per-trial loop: it runs the engine for a trial
starting at every possible offset of a stretch of the stream (a sliding window, no copy
of the uniforms per offset beyond the gather), then follows the chain offset -> offset +
uniforms used to pick out the trials R would have run.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from phaseone.simulation.batch import TrialBatch
from phaseone.simulation.rng import RUniformStream

Runner = Callable[[NDArray[np.float64]], tuple[TrialBatch, NDArray[np.int64]]]


def numpy_rows(generator: np.random.Generator, trials: int, width: int) -> NDArray[np.float64]:
    return generator.random((trials, width))


def r_stream_trials(
    run: Runner, seed: int, n_trials: int, width: int, step: int, window_trials: int = 4096
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
    while done < n_trials:
        want = min(window_trials, n_trials - done)
        need = offset - base + want * width + width
        if buffer.size < need:
            buffer = np.concatenate([buffer, stream.uniforms(need - buffer.size)])
        rel0 = offset - base
        starts = np.arange(rel0, rel0 + want * width, step)
        windows = np.lib.stride_tricks.sliding_window_view(buffer, width)[starts]
        batch, used = run(windows)
        picked: list[int] = []
        rel = rel0
        limit = rel0 + want * width
        while len(picked) < want and rel < limit:
            i = (rel - rel0) // step
            picked.append(i)
            rel += int(used[i])
        parts.append(batch.take(np.asarray(picked, dtype=np.int64)))
        done += len(picked)
        offset = base + rel
        drop = offset - base
        buffer, base = buffer[drop:], offset
    return TrialBatch.concat(parts)


def offset_step(cohort_size: int, titration_draws: int) -> int:
    return math.gcd(cohort_size, titration_draws) if titration_draws else cohort_size
