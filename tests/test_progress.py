"""The tqdm progress bar behind fit(verbose=True)."""

from __future__ import annotations

import io
import re

from tqdm.auto import tqdm

import xpnet
from xpnet._progress import ProgressBar
from xpnet.datasets import make_synthetic


def test_bar_counts_and_shows_the_last_cost_and_time_left():
    out = io.StringIO()
    with ProgressBar(40, "fit", stream=out, unit="epoch") as bar:
        assert isinstance(bar._bar, tqdm)
        for i in range(40):
            if i % 10 == 0:
                bar.update(0, f"cost={1.0 / (i + 1):.6f}")
            bar.update(1)
    text = out.getvalue()
    last = text.rstrip().split("\r")[-1]
    assert "40/40" in last and "100%" in last
    assert "cost=0.032258" in last  # the cost recorded at step 30, the last one
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d", last), last  # elapsed<remaining
    assert "epoch/s" in last
    assert bar.n == 40 and bar._bar is None  # closed on exit


def test_disabled_bar_creates_nothing_and_prints_nothing(capfd):
    with ProgressBar(10, "fit", enabled=False) as bar:
        bar.update(5, "cost=0.5")
        assert bar._bar is None
    assert bar.n == 5 and bar.postfix == "cost=0.5"
    assert capfd.readouterr() == ("", "")


def test_quiet_fit_prints_nothing_on_either_stream(capfd):
    X, Y = make_synthetic(20, 2, seed=0)
    xpnet.NeuralNetwork([2, 3, 1], num_iterations=30, record_every=5).fit(X, Y)
    xpnet.NeuralNetwork([2, 1], num_iterations=3, batch_size=8, verbose=False).fit(X, Y)
    assert capfd.readouterr() == ("", "")


def test_mini_batch_fit_counts_epochs(capsys):
    X, Y = make_synthetic(20, 2, seed=0)
    xpnet.NeuralNetwork([2, 1], num_iterations=6, batch_size=8, verbose=True).fit(X, Y)
    err = capsys.readouterr().err
    assert "6/6" in err and "epoch/s" in err and "cost=" in err
