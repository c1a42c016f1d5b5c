"""The backends the tests and the benchmarks run on, as one enum (private).

``tests/conftest.py`` builds its ``backend``/``xp``/``device`` fixtures from
:class:`Backend`, and ``benchmarks/_common.py`` resolves its ``backend`` parameter
through it, so the two name the same backends with the same ids. The ids (the
members' values) are also what ``XPNET_BACKENDS`` and ``--xpnet-backends`` accept,
and what ``ci/gpu/run.sh`` and ``.ci/run`` pass.

This module lives in the package, rather than in ``tests/`` or ``benchmarks/``, so
that both can import it without importing each other or editing ``sys.path``.
Nothing in the package imports it: the math modules and ``import xpnet`` stay as
they are, and pytest is imported only inside :meth:`Backend.pytest_param`.
"""

from __future__ import annotations

import importlib.util
import os
from enum import Enum
from typing import Any

from ._backend import BackendUnavailableError, get_namespace

__all__ = ["Backend", "parse_backends", "selected_backends"]

#: The variable that narrows the test run to some backends, e.g. "numpy,torch".
ENV_VAR = "XPNET_BACKENDS"


class Backend(Enum):
    """One library, on one device, that xpnet is tested and benchmarked on.

    The value is the id used in test ids, ``XPNET_BACKENDS`` and the benchmarks'
    ``backend`` parameter; :attr:`library` is the name to pass as ``backend=``
    and :attr:`device_spec` the ``device=`` to pass with it.
    """

    NUMPY = "numpy"
    ARRAY_API_STRICT = "array_api_strict"
    # array_api_strict on its non-default device: catches a missing ``device=``
    # without a GPU.
    ARRAY_API_STRICT_DEVICE1 = "array_api_strict-device1"
    TORCH = "torch"
    JAX = "jax"
    DASK = "dask"
    CUPY = "cupy"
    TORCH_CUDA = "torch-cuda"

    @property
    def library(self) -> str:
        """The backend name xpnet accepts as ``backend=`` ("torch" for torch-cuda)."""
        return self.value.partition("-")[0]

    @property
    def device_spec(self) -> str | None:
        """The ``device=`` to pass with :attr:`library`; None for the default device."""
        return {"device1": "device1", "cuda": "cuda"}.get(self.value.partition("-")[2])

    @property
    def gpu(self) -> bool:
        """Whether the arrays live on a CUDA GPU."""
        return self in (Backend.CUPY, Backend.TORCH_CUDA)

    def skip_reason(self) -> str | None:
        """Why this backend cannot run here (not installed, no GPU), or None."""
        if importlib.util.find_spec(self.library) is None:
            return f"{self.library} is not installed"
        if self is Backend.CUPY:
            try:
                get_namespace("cupy")
            except BackendUnavailableError as exc:
                return str(exc)
        if self is Backend.TORCH_CUDA:
            import torch

            if not torch.cuda.is_available():
                return "torch reports no CUDA device"
        return None

    def pytest_param(self) -> Any:
        """``pytest.param(self)`` with the id and the marks of this backend: a skip
        with the reason when it cannot run, so it is reported as skipped, never passed."""
        import pytest

        marks = []
        reason = self.skip_reason()
        if reason is not None:
            marks.append(pytest.mark.skip(reason=f"backend {self.value}: {reason}"))
        return pytest.param(self, id=self.value, marks=marks)


def parse_backends(text: str, *, source: str = ENV_VAR) -> list[Backend]:
    """The backends named in a comma list of ids, in the enum's order; a ValueError
    names the unknown ids and the valid ones."""
    ids = {s.strip() for s in text.split(",") if s.strip()}
    unknown = sorted(ids - {b.value for b in Backend})
    if unknown:
        raise ValueError(
            f"{source} names unknown backends {unknown}; choose from {[b.value for b in Backend]}"
        )
    return [b for b in Backend if b.value in ids]


def selected_backends() -> list[Backend]:
    """Every backend, or those ``XPNET_BACKENDS`` names when it is set."""
    wanted = os.environ.get(ENV_VAR, "")
    return parse_backends(wanted) if wanted.strip() else list(Backend)
