"""Shared by the week-2 and week-4 examples: find, load and check the course's cat images.

Not an example itself (the gallery ignores files whose names start with ``_``).
xpnet ships no data: pass the two HDF5 files of the course as arguments,
``python plot_week2_logistic_regression.py train_catvnoncat.h5 test_catvnoncat.h5``,
or set ``XPNET_CAT_TRAIN`` and ``XPNET_CAT_TEST``.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from xpnet.datasets import load_h5_images

#: The course's files hold 209 training and 50 test images of 64 x 64 x 3 pixels.
COURSE_SHAPES = ((12288, 209), (12288, 50))


def cat_files(description: str) -> tuple[str, str] | None:
    """The train and test paths from the command line or the environment, or None
    (after saying why) when they are not given, do not exist, or h5py is missing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("train", nargs="?", default=os.environ.get("XPNET_CAT_TRAIN"))
    parser.add_argument("test", nargs="?", default=os.environ.get("XPNET_CAT_TEST"))
    args, _ = parser.parse_known_args()
    reason = None
    if not args.train or not args.test:
        reason = (
            "the course's cat images are not given: pass train_catvnoncat.h5 and "
            "test_catvnoncat.h5 as arguments or set XPNET_CAT_TRAIN and XPNET_CAT_TEST"
        )
    else:
        absent = [p for p in (args.train, args.test) if not os.path.isfile(p)]
        if absent:
            reason = f"the cat image file(s) {absent} do not exist"
    try:
        import h5py  # noqa: F401
    except ImportError:
        reason = reason or 'reading the cat images needs h5py: pip install "xpnet[hdf5]"'
    if reason is not None:
        print(f"Skipped: {reason}.")
        return None
    return args.train, args.test


def load_cats(train: str, test: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X_train (12288, 209), Y_train (1, 209), X_test (12288, 50), Y_test (1, 50), as the
    course flattens them: X = images.reshape(m, -1).T / 255."""
    X_train, Y_train, _ = load_h5_images(train)
    X_test, Y_test, _ = load_h5_images(test)
    print(f"train: X {X_train.shape}, Y {Y_train.shape}; test: X {X_test.shape}")
    return X_train, Y_train, X_test, Y_test


def is_course_data(X_train: np.ndarray, X_test: np.ndarray) -> bool:
    """True for the course's two files; other files are trained on but not compared."""
    if (X_train.shape, X_test.shape) == COURSE_SHAPES:
        return True
    print(f"These are not the course's files {COURSE_SHAPES}: the numbers are not compared.")
    return False


def compare(
    costs: list[tuple[int, float]],
    course_costs: dict[int, float],
    accuracies: dict[str, tuple[float, float]],
) -> None:
    """Print ours beside the course's numbers and stop with an error when they differ
    (costs within 1e-6, accuracies within half an example)."""
    recorded = dict(costs)
    bad = []
    for i, want in course_costs.items():
        got = recorded[i]
        print(f"cost at iteration {i}: {got:.6f} (course {want:.6f})")
        if abs(got - want) > 1e-6:
            bad.append(f"cost at {i}")
    for name, (got, want) in accuracies.items():
        print(f"{name} accuracy: {100 * got:.2f} % (course {100 * want:.2f} %)")
        if abs(got - want) > 1e-3:
            bad.append(f"{name} accuracy")
    if bad:
        sys.exit(f"differs from the course: {', '.join(bad)}")
    print("The costs and the accuracies match the course.")
