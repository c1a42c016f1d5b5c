"""A dependency-free text progress bar (stderr), used by ``fit(verbose=True)`` and the CLI."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """``with ProgressBar(total, "training") as bar: bar.update(1, "cost=0.69")``.

    Redraws at most ten times a second; prints nothing when ``enabled`` is False.
    """

    def __init__(
        self, total: int, desc: str = "", *, enabled: bool = True, stream: TextIO | None = None
    ) -> None:
        self.total = max(int(total), 1)
        self.desc = desc
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.n = 0
        self.postfix = ""
        self._start = time.perf_counter()
        self._last = 0.0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        self.n += n
        if postfix is not None:
            self.postfix = postfix
        now = time.perf_counter()
        if self.enabled and (now - self._last > 0.1 or self.n >= self.total):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        frac = min(self.n / self.total, 1.0)
        width = 30
        filled = int(frac * width)
        elapsed = now - self._start
        bar = "#" * filled + "-" * (width - filled)
        line = f"\r{self.desc} [{bar}] {self.n}/{self.total} {elapsed:6.1f}s {self.postfix}"
        self.stream.write(line)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()
