"""Record the machine a GPU run measured: ``python ci/gpu/env.py OUT``.

Writes ``OUT/env.json`` (GPU name, driver, CUDA versions seen by the driver, CuPy, torch
and JAX, library versions, JAX's devices, CPU) and ``OUT/nvidia-smi.txt`` (``nvidia-smi``
as the machine printed it). Every probe that fails is recorded as its error message, so
the file also says what is *not* there; the exit code is 1 only when no GPU was seen.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGES = (
    "xpnet",
    "numpy",
    "array-api-compat",
    "array-api-strict",
    "array-api-extra",
    "torch",
    "jax",
    "jaxlib",
    "jax-cuda13-plugin",
    "cupy-cuda13x",
    "cupy-cuda12x",
    "h5py",
    "pytest",
    "pytest-benchmark",
    "hypothesis",
    "matplotlib",
    "scikit-learn",
)
SMI_QUERY = "name,driver_version,memory.total,clocks.max.sm,clocks.sm,power.limit,compute_cap"


def _text(name: bytes | str) -> str:
    """A CUDA device name: bytes from CuPy's runtime (13), perhaps str in later CuPy."""
    return name.decode() if isinstance(name, bytes) else str(name)


def _probe(fn) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - a missing piece is a finding, not a crash
        return f"unavailable: {type(exc).__name__}: {exc}"


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=True).stdout


def _versions() -> dict[str, str]:
    out = {}
    for pkg in PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def _torch() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "cuda_build": torch.version.cuda,
        "available": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        info.update(
            name=p.name,
            multiprocessors=p.multi_processor_count,
            memory_gib=round(p.total_memory / 2**30, 1),
            capability=f"{p.major}.{p.minor}",
            cudnn=torch.backends.cudnn.version(),
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
        )
    return info


def _cupy() -> dict[str, Any]:
    import cupy

    rt = cupy.cuda.runtime
    return {
        "runtime": rt.runtimeGetVersion(),
        "driver_api": rt.driverGetVersion(),
        "name": _text(rt.getDeviceProperties(0)["name"]),
        "tf32": os.environ.get("CUPY_TF32", "0"),
    }


def _jax() -> dict[str, Any]:
    import jax

    return {
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "default_matmul_precision": jax.config.jax_default_matmul_precision,
        "XLA_PYTHON_CLIENT_PREALLOCATE": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"),
    }


def _commit() -> dict[str, Any] | None:
    """The commit the run measured: the device gets a copy of the tree without .git, so
    ci/gpu/fetch_wheels.sh stamps it beside the wheels (``id`` and ``dirty``)."""
    stamp = Path(__file__).resolve().parent / "wheels" / "COMMIT"
    if not stamp.is_file():
        return None
    id_, *rest = stamp.read_text().split()
    return {"id": id_, "dirty": "dirty" in rest}


def collect() -> dict[str, Any]:
    smi = _probe(lambda: _run("nvidia-smi", f"--query-gpu={SMI_QUERY}", "--format=csv,noheader"))
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu": _probe(
            lambda: (
                Path("/proc/cpuinfo")
                .read_text()
                .split("model name")[1]
                .split(":")[1]
                .split("\n")[0]
                .strip()
            )
        ),
        "nvidia_smi_query": {
            "fields": SMI_QUERY,
            "value": smi.strip() if isinstance(smi, str) else smi,
        },
        "nvcc": _probe(lambda: _run("nvcc", "--version").strip().splitlines()[-1]),
        "torch": _probe(_torch),
        "cupy": _probe(_cupy),
        "jax": _probe(_jax),
        "versions": _versions(),
        "commit": _probe(_commit),
    }


def gpu_name(env: dict[str, Any]) -> str | None:
    """The GPU's name as torch or CuPy saw it, or None."""
    for key in ("torch", "cupy"):
        part = env.get(key)
        if isinstance(part, dict) and part.get("name"):
            return part["name"]
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python ci/gpu/env.py OUT_DIR", file=sys.stderr)
        return 64
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    env = collect()
    (out / "env.json").write_text(json.dumps(env, indent=1))
    full = _probe(lambda: _run("nvidia-smi"))
    (out / "nvidia-smi.txt").write_text(full if isinstance(full, str) else str(full))
    print(json.dumps(env, indent=1))
    name = gpu_name(env)
    print(f"GPU: {name or 'none seen'}")
    return 0 if name else 1


if __name__ == "__main__":
    raise SystemExit(main())
