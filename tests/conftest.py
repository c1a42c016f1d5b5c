"""The ``xp`` fixture: every test that takes ``xp`` runs once per available backend.

NumPy and array_api_strict always run; array_api_strict also runs on its
non-default device "device1", which catches missing ``device=`` arguments without
a GPU. torch, JAX and Dask run when installed; CuPy and torch-CUDA when a CUDA
GPU is present. Backends that cannot run are *skipped with the reason*, never
passed. ``XPNET_BACKENDS=numpy,torch`` narrows the list (ids as below).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import xpnet
from xpnet._backend import get_namespace, resolve_device


@dataclass(frozen=True)
class Backend:
    """One backend/device combination the tests run on."""

    id: str
    name: str
    device: Any = None  # a user-facing device spec, passed to resolve_device

    def skip_reason(self) -> str | None:
        module = {
            "numpy": "numpy",
            "array_api_strict": "array_api_strict",
            "torch": "torch",
            "jax": "jax",
            "dask": "dask",
            "cupy": "cupy",
        }[self.name]
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
        if self.name == "cupy":
            try:
                get_namespace("cupy")
            except xpnet.BackendUnavailableError as exc:
                return str(exc)
        if self.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                return "torch reports no CUDA device"
        return None


ALL_BACKENDS = [
    Backend("numpy", "numpy"),
    Backend("array_api_strict", "array_api_strict"),
    Backend("array_api_strict-device1", "array_api_strict", "device1"),
    Backend("torch", "torch"),
    Backend("jax", "jax"),
    Backend("dask", "dask"),
    Backend("cupy", "cupy"),
    Backend("torch-cuda", "torch", "cuda"),
]


def _selected() -> list[Backend]:
    wanted = os.environ.get("XPNET_BACKENDS")
    if not wanted:
        return ALL_BACKENDS
    ids = [w.strip() for w in wanted.split(",") if w.strip()]
    unknown = sorted(set(ids) - {b.id for b in ALL_BACKENDS})
    if unknown:
        raise pytest.UsageError(
            f"XPNET_BACKENDS names unknown backends {unknown}; "
            f"choose from {[b.id for b in ALL_BACKENDS]}"
        )
    return [b for b in ALL_BACKENDS if b.id in ids]


def pytest_configure(config: pytest.Config) -> None:
    if importlib.util.find_spec("jax") is not None:
        import jax

        # The tests compare float64 results; without this JAX silently uses float32.
        jax.config.update("jax_enable_x64", True)


@dataclass(frozen=True)
class XP:
    """What a test needs to know about the backend it runs on."""

    ns: ModuleType  # the Array API namespace
    name: str  # backend name for ``backend=``
    device: Any  # the namespace's device object
    id: str

    def asarray(self, a: Any, dtype: str = "float64") -> Any:
        """Place host data on this backend and device."""
        return xpnet.to_backend(np.asarray(a, dtype=dtype), self.name, device=self.device)

    def __getattr__(self, attr: str) -> Any:  # xp.float64, xp.sum, ...
        return getattr(self.ns, attr)


@pytest.fixture(params=_selected(), ids=lambda b: b.id)
def xp(request: pytest.FixtureRequest) -> XP:
    backend: Backend = request.param
    reason = backend.skip_reason()
    if reason is not None:
        pytest.skip(f"backend {backend.id}: {reason}")
    ns = get_namespace(backend.name)
    return XP(ns=ns, name=backend.name, device=resolve_device(ns, backend.device), id=backend.id)


@pytest.fixture
def numpy_xp() -> XP:
    """The NumPy backend alone, for checks of the math that need no backend sweep."""
    ns = get_namespace("numpy")
    return XP(ns=ns, name="numpy", device=resolve_device(ns, None), id="numpy")
