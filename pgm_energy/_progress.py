"""Progress bars: one implementation for the samplers and the trainers.

A bar is drawn with tqdm on stderr, and only when it is asked for *and* stderr is a
terminal: redirected output, logs and test runs stay free of bar fragments. A disabled
bar is a do-nothing object, so callers never branch on whether one is shown.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

__all__ = ["ProgressBar", "progress_bar"]

#: seconds a bar waits before it first draws: calls shorter than this show nothing
DEFAULT_DELAY = 0.5


class ProgressBar:
    """A tqdm bar, or nothing when ``bar`` is None (the same methods, doing nothing).

    Use :func:`progress_bar` to make one. Usable as a context manager (closed on exit).

    Attributes
    ----------
    shown : bool
        Whether a bar is drawn; callers may skip work that only feeds the bar.
    """

    __slots__ = ("_bar",)

    def __init__(self, bar=None):
        self._bar = bar

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def update(self, n: int = 1) -> None:
        """Advance the bar by ``n`` steps."""
        if self._bar is not None:
            self._bar.update(n)

    def set_postfix(self, values: Mapping[str, object]) -> None:
        """Show ``values`` after the bar (for example the latest metrics); drawn at the next update."""
        if self._bar is not None:
            self._bar.set_postfix(dict(values), refresh=False)

    def close(self) -> None:
        """Remove the bar's line state; safe to call more than once."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def progress_bar(enabled: bool, total: int, *, unit: str, description: str, initial: int = 0,
                 delay: float = DEFAULT_DELAY) -> ProgressBar:
    """A progress bar over ``total`` steps, drawn only if ``enabled`` and stderr is a terminal.

    Parameters
    ----------
    enabled : bool
        The caller's ``progress`` argument (already validated).
    total : int >= 0
        Steps of the whole run.
    unit : str
        Name of a step ("sweep", "epoch").
    description : str
        Label before the bar (the sampler's or trainer's name).
    initial : int >= 0, default 0
        Steps already done (a resumed run).
    delay : float >= 0, default :data:`DEFAULT_DELAY`
        Seconds before the bar first appears, so that short calls print nothing.

    Returns
    -------
    ProgressBar
        With ``update(n)``, ``set_postfix(values)``, ``close()``; a context manager.
    """
    if not enabled or not _stderr_is_terminal():
        return _NO_BAR
    from tqdm.auto import tqdm

    return ProgressBar(
        tqdm(total=total, initial=initial, unit=unit, desc=description, file=sys.stderr, delay=delay)
    )


_NO_BAR = ProgressBar()  # shared: a bar without tqdm has no state to change


def _stderr_is_terminal() -> bool:
    stream = sys.stderr
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # a replaced stream without isatty, or a closed one
        return False
