"""
Course 2: zeros, large random and He initialisation on the circles
===================================================================

The second course's initialization assignment trains ``layer_dims = [2, 10, 5, 1]``
(ReLU hidden units, sigmoid output) by 15 000 iterations of gradient descent with
α = 0.01 on two noisy concentric circles, starting three times:

* from **zeros**: every unit of a layer computes the same thing and the symmetry is
  never broken. With balanced labels nothing moves at all: the cost stays
  log 2 = 0.693147 and every point is predicted 0, 50 % accuracy, as the notebook
  prints;
* from **large random** weights, ``randn · 10``: the first outputs saturate at 0 or
  1, the cost starts very high (the notebook's cost, computed from A, prints
  ``inf``; xpnet computes it from Z[L] in the softplus form, so it stays finite) and
  training is slow;
* from **He** weights, ``randn · √(2 / n[l-1])``: fast, accurate training.

:func:`xpnet.datasets.circles` regenerates the assignment's points (300 training
points with seed 1, 100 test points with seed 2). The notebook reports 50 % / 50 %
(train / test accuracy) for zeros, 83 % / 86 % for large random weights and
99.33 % / 96 % for He.
"""

# %%
# Three initialisations
# ---------------------
# ``seed=np.random.RandomState(3)`` makes the course's draws (``np.random.seed(3)``,
# then ``randn(n[l], n[l-1])`` for each layer), scaled by ``init_scale`` (random) or
# √(2 / n[l-1]) (He).

import matplotlib.pyplot as plt
import numpy as np

import xpnet
from xpnet.datasets import circles
from xpnet.plot import plot_costs, plot_decision_boundary

X_train, Y_train = circles(m=300, seed=1)
X_test, Y_test = circles(m=100, seed=2)

INITS = {"zeros": {"init": "zeros"}, "random": {"init": "random", "init_scale": 10.0},
         "he": {"init": "he"}}  # fmt: skip
models = {}
for name, init in INITS.items():
    model = xpnet.NeuralNetwork(
        [2, 10, 5, 1],
        hidden_activation="relu",
        seed=np.random.RandomState(3),
        learning_rate=0.01,
        num_iterations=15000,
        record_every=1000,
        **init,
    )
    models[name] = model.fit(X_train, Y_train)
    print(f"-- {name}")
    for iteration, cost in model.costs_:
        print(f"Cost after iteration {iteration}: {cost:.6f}")
    print(f"train accuracy: {100 * model.score(X_train, Y_train):.2f} %")
    print(f"test accuracy: {100 * model.score(X_test, Y_test):.2f} %")

# %%
# The course's numbers
# --------------------
# Zeros: the cost stays log 2 and no parameter ever moves. He: the notebook's costs
# at iterations 0, 1000 and 14 000. All three: the notebook's accuracies.

zeros, he = models["zeros"], models["he"]
np.testing.assert_allclose([c for _, c in zeros.costs_], np.log(2), rtol=0, atol=1e-12)
assert all(np.all(xpnet.to_numpy(p) == 0) for p in zeros.params_.values())
he_costs = dict(he.costs_)
np.testing.assert_allclose(
    [he_costs[0], he_costs[1000], he_costs[14000]], [0.883054, 0.687983, 0.073579], atol=1e-6
)
COURSE_ACCURACY = {"zeros": (0.5, 0.5), "random": (0.83, 0.86), "he": (298 / 300, 0.96)}
for name, (train, test) in COURSE_ACCURACY.items():
    ours = (models[name].score(X_train, Y_train), models[name].score(X_test, Y_test))
    np.testing.assert_allclose(ours, (train, test), rtol=0, atol=1e-9, err_msg=name)
print("The costs and the accuracies match the course.")

# %%
# Learning curves and decision boundaries
# ---------------------------------------
# Zeros predicts one class everywhere; large random weights give a rough boundary;
# He weights find the inner disc.

fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), layout="constrained")
for column, (name, model) in enumerate(models.items()):
    plot_costs(model, ax=axes[0, column], title=f"init = {name}")
    axes[0, column].set_xticks(range(0, 15001, 5000))
    plot_decision_boundary(model, X_train, Y_train, ax=axes[1, column], margin=0.3,
                           title=f"init = {name}")  # fmt: skip
axes[0, 1].set_yscale("log")  # large weights start at a cost of about 1774
plt.show()
