"""Progress bars on a terminal only.

A progress bar redraws one line with carriage returns; in a log file (a slurm job's
output, ``tools/train.py ... > log``) that becomes hundreds of lines of bar. The bars of
hieraseg's tools are drawn only when their stream is a terminal.
"""
import sys
from multiprocessing import Pool
from typing import Callable, Optional, Sequence


def on_terminal(stream=None) -> bool:
    """Whether ``stream`` (default: ``sys.stdout``, where mmengine draws its bars) is a
    terminal."""
    stream = sys.stdout if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def progress_bar(total: int):
    """mmengine's ProgressBar over ``total`` tasks on a terminal, else None."""
    if total <= 0 or not on_terminal():
        return None
    from mmengine.utils import ProgressBar
    return ProgressBar(total, file=sys.stdout)  # the stream now, not at mmengine's import


def track(func: Callable, tasks: Sequence, nproc: int = 1) -> list:
    """``[func(task) for task in tasks]``, in ``nproc`` processes if more than one, with
    mmengine's progress bar on a terminal."""
    tasks = list(tasks)
    if not tasks:
        return []
    if on_terminal():
        from mmengine.utils import track_parallel_progress, track_progress
        if nproc > 1:
            return track_parallel_progress(func, tasks, nproc, file=sys.stdout)
        return track_progress(func, tasks, file=sys.stdout)
    if nproc > 1:
        with Pool(nproc) as pool:
            return pool.map(func, tasks)
    return [func(task) for task in tasks]


def finish(bar: Optional[object]):
    """Ends a bar's line (mmengine's bars leave the cursor on it)."""
    if bar is not None:
        bar.file.write('\n')
