"""The progress bar of ``fit(verbose=True)``: a thin wrapper over tqdm.

``tqdm.auto`` picks a notebook widget under Jupyter and a text bar on stderr elsewhere.
The wrapper keeps the small interface the callers use (a context manager with
``update(n, postfix)`` and ``close()``), so the training loop never imports tqdm itself,
and a disabled bar creates no tqdm object at all: ``verbose=False`` prints nothing.
"""

from __future__ import annotations

from typing import Any, TextIO

from tqdm.auto import tqdm

__all__ = ["ProgressBar"]


class ProgressBar:
    """``with ProgressBar(total, "fit", unit="epoch") as bar: bar.update(1, "cost=0.69")``.

    The bar shows ``n/total`` (iterations or epochs, as ``unit`` says), the elapsed and
    the remaining time, the rate, and the last postfix (the last recorded cost). tqdm
    redraws it at most ten times a second.

    Parameters
    ----------
    total : int
        Number of steps the bar counts to.
    desc : str
        Label in front of the bar.
    enabled : bool
        When False nothing is created and nothing is printed.
    stream : file-like, optional
        Where the text bar goes; default ``sys.stderr`` (ignored by the notebook widget).
    unit : str
        What one step is called ("it", "epoch").
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        unit: str = "it",
    ) -> None:
        self.total = max(int(total), 1)
        self.desc = desc
        self.enabled = enabled
        self.n = 0
        self.postfix = ""
        self._bar: Any = None
        if enabled:
            self._bar = tqdm(
                total=self.total,
                desc=desc,
                unit=unit,
                file=stream,
                mininterval=0.1,
                dynamic_ncols=True,
                leave=True,
            )

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        """Advance by ``n`` steps (0 only sets the postfix) and show ``postfix`` from now on."""
        self.n += n
        if postfix is not None:
            self.postfix = postfix
        if self._bar is None:
            return
        if postfix is not None:
            self._bar.set_postfix_str(postfix, refresh=False)  # drawn with the next refresh
        if n:
            self._bar.update(n)

    def close(self) -> None:
        """Draw the final state and end the line; a second call does nothing."""
        if self._bar is not None:
            self._bar.refresh()
            self._bar.close()
            self._bar = None
