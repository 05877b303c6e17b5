"""Running simulation chunks on a Dask cluster.

Every chunk carries its own child of `SeedSequence(seed)`, so which worker runs it does
not matter: the summed result equals the local result for the same seed. Without a
scheduler address a `LocalCluster` is started (and closed) for the run; with one, the
run attaches to an existing cluster (for instance one started by dask-jobqueue on an HPC
system).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

from phaseone.errors import InputError, Problem
from phaseone.simulation.api import ChunkTask, Progress, run_chunk
from phaseone.simulation.batch import TrialBatch
from phaseone.simulation.results import OCStats


class DaskBackend:
    """Map chunk tasks over a Dask cluster."""

    def __init__(self, scheduler: str | None = None, n_workers: int | None = None) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers
        self._stack: ExitStack | None = None
        self._client: Any = None

    def __enter__(self) -> DaskBackend:
        """Keep one cluster connection open for several runs (a scenario grid)."""
        self._stack = ExitStack()
        self._client = self._connect(self._stack)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack = None
        self._client = None

    def map(
        self, tasks: Sequence[ChunkTask], progress: Progress | None
    ) -> list[tuple[int, OCStats, TrialBatch | None]]:
        first = tasks[0].index if tasks else 0
        return self.map_calls(run_chunk, tasks, [t.trials for t in tasks], progress, first)

    def map_calls(
        self,
        fn: Callable[[Any], Any],
        items: Sequence[Any],
        weights: Sequence[int],
        progress: Progress | None,
        first: int = 0,
    ) -> list[Any]:
        """`fn` over `items` on the cluster, results in completion order; each result is a
        tuple that starts with its item's index (`first`, `first` + 1, ...), and `weights`
        say how much of the progress each item is (trials in a chunk)."""
        as_completed = _distributed().as_completed
        total = sum(weights)
        out: list[Any] = []
        with ExitStack() as stack:
            client = self._client if self._client is not None else self._connect(stack)
            futures = client.map(fn, list(items), pure=False)
            done = 0
            for future in as_completed(futures):
                result = future.result()
                out.append(result)
                done += weights[result[0] - first]
                if progress is not None:
                    progress(done, total)
        return out

    def _connect(self, stack: ExitStack) -> Any:
        dist = _distributed()
        Client, LocalCluster = dist.Client, dist.LocalCluster
        client: Any
        if self.scheduler is None:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=self.n_workers or 2,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(self.scheduler, timeout="10s"))
            except OSError as exc:
                raise InputError(
                    [Problem("scheduler", f"cannot reach {self.scheduler}: {exc}")]
                ) from None
        return client


def _distributed() -> Any:
    """dask.distributed, imported on demand (it is an optional dependency)."""
    try:
        return importlib.import_module("dask.distributed")
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError(
            [Problem("backend", "dask is not installed; pip install 'phaseone[dask]'")]
        ) from None
