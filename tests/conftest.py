"""The backend fixtures: every test that takes ``backend``, ``xp`` or ``device`` runs
once per backend of :class:`xpnet._testing.Backend`.

- ``backend``: the :class:`~xpnet._testing.Backend` member; ``backend.library`` is
  the name to pass as ``backend=``, ``backend.device_spec`` the ``device=``.
- ``xp``: the array namespace itself, as ``xpnet.get_namespace`` returns it
  (array-api-compat's wrapper where there is one).
- ``device``: the device object of that namespace the test runs on.

NumPy and array_api_strict always run; array_api_strict also runs on its
non-default device "device1", which catches missing ``device=`` arguments without
a GPU. torch, JAX and Dask run when installed; CuPy and torch-CUDA when a CUDA GPU
is present. Backends that cannot run are *skipped with the reason*, never passed.
``XPNET_BACKENDS=numpy,torch`` narrows the list (ids as in ``Backend``).

``@pytest.mark.skip_xp_backends(Backend.DASK, "torch-cuda", reason=...)`` skips a
test on the backends it names (members or ids), reporting the reason.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

import pytest

from xpnet._backend import get_namespace, resolve_device
from xpnet._testing import Backend, selected_backends


def pytest_configure(config: pytest.Config) -> None:
    if importlib.util.find_spec("jax") is not None:
        import jax

        # The tests compare float64 results; without this JAX silently uses float32.
        jax.config.update("jax_enable_x64", True)


def _backend_params() -> list[Any]:
    try:
        backends = selected_backends()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    return [b.pytest_param() for b in backends]


def _skip_marked(request: pytest.FixtureRequest, backend: Backend) -> None:
    for marker in request.node.iter_markers("skip_xp_backends"):
        reason = marker.kwargs.get("reason")
        if not reason:
            raise pytest.UsageError(f"{request.node.nodeid}: skip_xp_backends needs reason=")
        try:
            named = {Backend(b) for b in marker.args}
        except ValueError as exc:
            raise pytest.UsageError(f"{request.node.nodeid}: skip_xp_backends: {exc}") from None
        if backend in named:
            pytest.skip(f"backend {backend.value}: {reason}")


@pytest.fixture(params=_backend_params())
def backend(request: pytest.FixtureRequest) -> Backend:
    """The backend this test case runs on (honours ``skip_xp_backends``)."""
    _skip_marked(request, request.param)
    return request.param


@pytest.fixture
def xp(backend: Backend) -> ModuleType:
    """The array namespace of ``backend``."""
    return get_namespace(backend.library)


@pytest.fixture
def device(xp: ModuleType, backend: Backend) -> Any:
    """The device object the test's arrays live on."""
    return resolve_device(xp, backend.device_spec)
