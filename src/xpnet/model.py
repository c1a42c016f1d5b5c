"""``NeuralNetwork``: an L-layer binary classifier trained by full-batch gradient descent."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from . import _validation as v
from ._backend import (
    align_examples_chunks,
    backend_name,
    check_same_namespace_and_device,
    chunk_examples,
    device_of,
    get_namespace,
    is_lazy,
    lazy_check_finite,
    materialize,
    namespace_of,
    persist_examples,
    resolve_device,
    resolve_dtype,
    to_backend,
)
from ._progress import ProgressBar
from .activations import Activation, get_activation
from .initializers import INITS, initialize_parameters
from .propagation import IMPLS, total_cost, update_parameters

__all__ = ["DivergenceError", "NeuralNetwork"]

Array = Any


class DivergenceError(FloatingPointError):
    """The cost became NaN or infinite during ``fit`` (learning rate too large?)."""


def _is_array(x: Any) -> bool:
    import array_api_compat

    return array_api_compat.is_array_api_obj(x)


class NeuralNetwork:
    """An L-layer network for binary or multi-class classification, in the course's notation.

    Layers 1..L-1 use ``hidden_activation``; layer L uses ``output_activation``
    (sigmoid with one unit, or softmax with one unit per class). Training
    minimises the cross-entropy cost J (plus
    λ/(2m) Σ‖W[l]‖² when ``l2 > 0``) by full-batch gradient descent.

    Parameters
    ----------
    layer_dims : sequence of int
        ``[n_x, n[1], ..., n[L]]`` with n[L] = 1 for a sigmoid output and
        n[L] = C >= 2 for a softmax over C classes. ``[n_x, 1]`` is logistic
        regression; ``[2, 4, 1]`` is the planar network; ``[64, 32, 10]`` a
        10-class softmax network.
    hidden_activation : str or Activation
        "relu" (default), "tanh", "sigmoid", "leaky_relu", "linear", or
        ``xpnet.activations.leaky_relu(slope)``.
    output_activation : {"sigmoid", "softmax"}
        "sigmoid" (binary cross-entropy, Y of 0/1 labels (1, m)) or "softmax"
        (categorical cross-entropy, Y of integer classes 0..C-1 (1, m) or
        one-hot (C, m)).
    learning_rate : float
        α > 0.
    num_iterations : int
        Number of gradient-descent steps (> 0).
    init : {"zeros", "random", "lecun", "he", "xavier"}
        Initial weights (see :mod:`xpnet.initializers`); ``init_scale`` is the
        multiplier of "random" (the course's 0.01).
    seed : int
        Seed of the host NumPy generator that draws the initial weights.
    l2 : float
        λ >= 0, the L2 regularisation strength.
    backend : str, module or None
        "numpy", "cupy", "torch", "jax", "dask", "array_api_strict" or a namespace.
        ``None`` follows the library of the X passed to ``fit`` (NumPy for lists).
        With a named backend, ``fit`` and ``predict`` move their inputs to it.
    device : optional
        Device on the backend (``"cuda:0"``, ``"device1"``...); default: X's device
        when ``backend`` is None, else the backend's default device.
    dtype : "float64" (default), "float32" or a dtype object
        Floating dtype of parameters and computation. Integer or boolean X is
        converted to it by value.
    impl : {"vectorized", "per_example", "loops"}
        Propagation implementation (the loop versions exist for benchmarks).
    record_every : int
        Record the cost (computed before the update) at iterations i with
        ``i % record_every == 0``, in ``costs_``.
    verbose : bool
        Show a progress bar on stderr.

    Attributes
    ----------
    params_ : dict
        Learned {"W1", "b1", ...} on the model's backend and device.
    costs_ : list of (int, float)
        Recorded (iteration, cost) pairs.
    n_iter_ : int
        Completed gradient steps.
    """

    def __init__(
        self,
        layer_dims: Sequence[int],
        *,
        hidden_activation: str | Activation = "relu",
        output_activation: str | Activation = "sigmoid",
        learning_rate: float = 0.0075,
        num_iterations: int = 3000,
        init: str = "he",
        init_scale: float = 0.01,
        seed: int | None = 0,
        l2: float = 0.0,
        backend: Any = None,
        device: Any = None,
        dtype: Any = "float64",
        impl: str = "vectorized",
        record_every: int = 100,
        verbose: bool = False,
    ) -> None:
        self.layer_dims = v.check_layer_dims(layer_dims)
        self.hidden_activation = get_activation(hidden_activation)
        self.output_activation = get_activation(output_activation)
        self.activations = v.check_activations(
            [self.hidden_activation] * (len(self.layer_dims) - 2) + [self.output_activation],
            len(self.layer_dims) - 1,
        )
        v.check_output_units(self.output_activation, self.layer_dims[-1])
        self.learning_rate = v.check_positive("learning_rate", learning_rate)
        self.num_iterations = v.check_positive("num_iterations", num_iterations, integer=True)
        self.init = v.check_name("init", init, INITS)
        self.init_scale = v.check_positive("init_scale", init_scale)
        self.seed = seed
        self.l2 = v.check_nonnegative("l2", l2)
        self.backend = backend
        self.device = device
        self.dtype = dtype
        self.impl = v.check_name("impl", impl, tuple(IMPLS))
        self.record_every = v.check_positive("record_every", record_every, integer=True)
        self.verbose = verbose
        if backend is not None:
            xp = get_namespace(backend)  # fails now, clearly, if the backend is unusable
            resolve_dtype(xp, dtype)
            resolve_device(xp, device)

    # ------------------------------------------------------------------ placement

    def _placement(self, arrays: Mapping[str, Any]) -> tuple[Any, Any, Any]:
        """(xp, device, dtype) for a call: the model's backend, or the inputs' library."""
        present = {k: a for k, a in arrays.items() if _is_array(a)}
        if len(present) > 1:  # X and Y from one library and on one device, never mixed
            check_same_namespace_and_device(present)
        if self.backend is not None:
            xp = get_namespace(self.backend)
            device = resolve_device(xp, self.device)
        elif present:
            first = next(iter(present.values()))
            xp = namespace_of(first)
            device = device_of(first) if self.device is None else resolve_device(xp, self.device)
        else:
            xp = get_namespace("numpy")
            device = resolve_device(xp, self.device)
        return xp, device, resolve_dtype(xp, self.dtype)

    def _prepare_X(
        self, X: Any, xp: Any, device: Any, dtype: Any, *, training: bool = False
    ) -> Array:
        """X on the model's backend. Dask: chunked along m only (``chunk_examples``);
        for ``training``, persisted on the cluster's workers and checked eagerly
        (one bool travels back); otherwise kept lazy with a per-block NaN/inf check."""
        if not _is_array(X) and not hasattr(X, "__len__"):
            raise TypeError(f"X must be an array of shape (n_x, m), got {type(X).__name__}")
        X = to_backend(X, xp, device=device)
        v.check_X(X, self.layer_dims[0])
        X = chunk_examples(X)
        X = v.as_float(X, xp, dtype)
        if is_lazy(xp) and not training:
            return lazy_check_finite(X)
        if training:
            (X,) = persist_examples(X)
        v.check_finite({"X": X}, xp)
        return X

    def _prepare_Y(
        self, Y: Any, m: int, xp: Any, device: Any, dtype: Any, *, like: Any = None
    ) -> Array:
        """Y on the model's backend; a Dask Y takes the m-chunks of ``like`` (X) and is
        persisted beside it when X was. A softmax model's integer labels (1, m) become
        one-hot (C, m)."""
        C = self.layer_dims[-1]
        Y = to_backend(Y, xp, device=device)
        v.check_Y(Y, m, C=C)
        if like is not None:
            Y = align_examples_chunks(Y, like)
            (Y,) = persist_examples(Y)
        v.check_finite({"Y": Y}, xp)
        v.check_labels(Y, xp, C=C)
        return v.as_labels(Y, xp, dtype, C)

    def _model_placement(self) -> tuple[Any, Any, Any]:
        if not hasattr(self, "params_"):
            raise RuntimeError(
                "this NeuralNetwork is not fitted yet; call fit(X, Y) before predicting"
            )
        W1 = self.params_["W1"]
        return namespace_of(W1), device_of(W1), W1.dtype

    # ------------------------------------------------------------------ training

    def fit(self, X: Any, Y: Any, initial_params: Mapping[str, Any] | None = None) -> NeuralNetwork:
        """Train by full-batch gradient descent.

        Each iteration i: A[L], caches = forward(X); J = cost (recorded when
        i % record_every == 0, before the update); grads = backward; W, b -= α·grads.

        Parameters
        ----------
        X : array (n_x, m)
        Y : array (1, m), labels 0/1
        initial_params : dict, optional
            Starting {"W1", "b1", ...} as NumPy or backend arrays (copied to the
            model's backend, device and dtype); default: drawn by ``init``/``seed``.

        Raises
        ------
        DivergenceError
            When the cost, or the parameters after the last update, become NaN or
            inf; the message gives the iteration. ``params_`` then holds the last
            parameters with a finite cost, ``costs_`` the history so far.
        KeyboardInterrupt
            Re-raised after ``params_``/``costs_``/``n_iter_`` are set to the last
            completed iteration, so the model stays usable.
        """
        xp, device, dtype = self._placement({"X": X, "Y": Y})
        X = self._prepare_X(X, xp, device, dtype, training=True)
        Y = self._prepare_Y(Y, X.shape[1], xp, device, dtype, like=X)
        if initial_params is None:
            params = initialize_parameters(
                self.layer_dims,
                self.init,
                seed=self.seed,
                scale=self.init_scale,
                xp=xp,
                device=device,
                dtype=dtype,
            )
        else:
            v.check_params(initial_params, self.layer_dims)
            params = {
                k: to_backend(p, xp, device=device, dtype=dtype) for k, p in initial_params.items()
            }
            v.check_finite(params, xp)

        forward, backward = IMPLS[self.impl]
        acts, l2, lr = self.activations, self.l2, self.learning_rate
        self.costs_: list[tuple[int, float]] = []
        self.params_ = params
        self.n_iter_ = 0
        self.backend_ = backend_name(xp)
        with ProgressBar(self.num_iterations, "fit", enabled=self.verbose) as bar:
            try:
                prev = params  # the parameters one iteration back, whose cost was finite
                for i in range(self.num_iterations):
                    AL, caches = forward(X, params, acts, xp=xp)
                    J = total_cost(caches, Y, params, l2, xp=xp)
                    grads = backward(AL, Y, caches, l2, xp=xp)
                    new_params, J = materialize(update_parameters(params, grads, lr), J)
                    # One device sync / graph compute per iteration; on Dask, materialize
                    # computed parameters and cost in one pass and J is a host scalar.
                    cost_i = float(J)
                    if not math.isfinite(cost_i):
                        self.params_, self.n_iter_ = prev, max(i - 1, 0)
                        raise DivergenceError(
                            f"the cost became {cost_i} at iteration {i} (learning_rate="
                            f"{lr}); params_ keeps the parameters after {self.n_iter_} "
                            "iterations, the last with a finite cost. Lower learning_rate "
                            "(e.g. by 10x) or standardise X"
                        )
                    if i % self.record_every == 0:
                        self.costs_.append((i, cost_i))
                        bar.update(0, f"cost={cost_i:.6f}")
                    prev, params = params, new_params
                    self.params_, self.n_iter_ = params, i + 1
                    bar.update(1)
                # The last update's parameters have no cost computed yet: check them once
                # (one reduction per array), so a fit never ends with NaN/inf in params_.
                if not all(bool(xp.all(xp.isfinite(p))) for p in params.values()):
                    self.params_, self.n_iter_ = prev, self.num_iterations - 1
                    raise DivergenceError(
                        f"the parameters became NaN or infinite in the last update (iteration "
                        f"{self.num_iterations - 1}, learning_rate={lr}); params_ keeps the "
                        f"parameters after {self.n_iter_} iterations, the last with a finite "
                        "cost. Lower learning_rate (e.g. by 10x) or standardise X"
                    )
            except KeyboardInterrupt:
                bar.update(0, f"interrupted after {self.n_iter_} iterations")
                raise
        return self

    # ------------------------------------------------------------------ inference

    def predict_proba(self, X: Any) -> Array:
        """A[L] for each column of X, on the model's backend: P(y = 1 | x), shape (1, m),
        for a sigmoid output; P(y = k | x) for k = 0..C-1, shape (C, m), for softmax.

        On Dask the result is a lazy Dask array chunked like X along m: nothing is
        computed here, and NaN/inf in X raise ``ValueError`` when it is computed.
        """
        xp, device, dtype = self._model_placement()
        X = self._prepare_X(X, xp, device, dtype)
        AL, _ = IMPLS["vectorized"].forward(X, self.params_, self.activations, xp=xp)
        return AL

    def predict(self, X: Any) -> Array:
        """Sigmoid: Ŷ = 1 where A[L] > 0.5, else 0, shape (1, m), in the model's float dtype.
        Softmax: the class index ŷ(i) = argmax_k a_k[L](i), shape (1, m), an integer array."""
        AL = self.predict_proba(X)
        xp = namespace_of(AL)
        if self.output_activation.name == "softmax":
            return xp.argmax(AL, axis=0, keepdims=True)
        return xp.astype(AL > 0.5, AL.dtype)

    def score(self, X: Any, Y: Any) -> float:
        """Accuracy: the fraction of the m examples where Ŷ equals Y (for softmax, the
        predicted class equals Y's class, given as integers (1, m) or one-hot (C, m))."""
        xp, device, dtype = self._model_placement()
        Y_hat = self.predict(X)
        Y = self._prepare_Y(Y, Y_hat.shape[1], xp, device, dtype, like=Y_hat)
        if self.output_activation.name == "softmax":
            Y = xp.argmax(Y, axis=0, keepdims=True)  # one-hot (C, m) -> class indices
        return float(xp.mean(xp.astype(Y_hat == Y, dtype)))

    # ------------------------------------------------------------------ persistence

    def save(self, path: Any) -> None:
        """Save the fitted model to ``path`` (one ``.npz``, written atomically).

        Parameters, activations, dtype, hyperparameters, ``costs_`` and ``n_iter_``
        are stored; :func:`xpnet.load` restores them bit for bit on any backend.
        See :mod:`xpnet.io` for the format.
        """
        from .io import save

        save(self, path)

    def __repr__(self) -> str:
        acts = [a.to_spec() for a in (self.hidden_activation, self.output_activation)]
        return (
            f"NeuralNetwork(layer_dims={self.layer_dims}, activations={acts}, "
            f"learning_rate={self.learning_rate}, num_iterations={self.num_iterations}, "
            f"init={self.init!r}, l2={self.l2}, backend={self.backend!r}, dtype={self.dtype!r},"
            f" impl={self.impl!r})"
        )
