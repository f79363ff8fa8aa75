"""Run one function over many projects, in worker processes, behind a progress bar.

Copier changes the working directory and git state while it runs, so projects
run in separate processes rather than threads. Workers are *spawned* (not
forked): the progress bar runs a thread, and forking a threaded process is unsafe.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

Job = TypeVar("Job")
Result = TypeVar("Result")


def default_workers() -> int:
    """One worker per CPU."""
    return os.cpu_count() or 1


def run_all(
    func: Callable[[Job], Result],
    jobs: Sequence[Job],
    *,
    workers: int,
    label: str,
    on_crash: Callable[[Job, BaseException], Result],
    console: Console,
    show_progress: bool = True,
    in_process: bool = False,
) -> list[Result]:
    """Results in the order of ``jobs``. ``func`` must be a module-level function.

    ``in_process`` runs the jobs here, one after the other, which saves a
    worker's start-up (importing Copier takes a second or two). ``on_crash``
    turns an exception that escaped ``func`` (or a dead worker) into a result.
    """
    results: dict[int, Result] = {}
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=False,
    )
    with progress:
        task = progress.add_task(label, total=len(jobs))
        if in_process:
            for index, job in enumerate(jobs):
                try:
                    results[index] = func(job)
                except Exception as error:
                    results[index] = on_crash(job, error)
                progress.advance(task)
        else:
            context = multiprocessing.get_context("spawn")
            size = min(workers, len(jobs))
            with ProcessPoolExecutor(max_workers=size, mp_context=context) as pool:
                futures = {pool.submit(func, job): index for index, job in enumerate(jobs)}
                try:
                    for future in as_completed(futures):
                        index = futures[future]
                        try:
                            results[index] = future.result()
                        except Exception as error:  # BrokenProcessPool included
                            results[index] = on_crash(jobs[index], error)
                        progress.advance(task)
                except KeyboardInterrupt:
                    # Start nothing new; running jobs roll their project back and stop.
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
    return [results[index] for index in range(len(jobs))]
