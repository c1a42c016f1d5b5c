"""
Course 2: L2 regularization and dropout against overfitting on the moons
========================================================================

The second course's regularization assignment fits a three-layer network to the
positions where a goalkeeper should kick the ball, and shows that it overfits the
training set, and that two remedies narrow the gap between training and test
accuracy:

* **L2 regularization** adds (λ / (2m)) Σ_l ‖W[l]‖²_F to the cross-entropy cost J,
  so backward propagation adds (λ / m) W[l] to every dW[l]: each step shrinks the
  weights a little ("weight decay"), which smooths the decision boundary;
* **inverted dropout** keeps each hidden unit of each example with probability
  ``keep_prob`` during training, D[l] = (rand < keep_prob), A[l] := A[l] * D[l] /
  keep_prob (the division keeps the expected value of A[l]); backward propagation
  applies the same mask to dA[l]. No unit can rely on any single other unit.
  Prediction uses every unit and no division.

That assignment reads its points from a file xpnet does not ship (``data.mat``)
and redraws its dropout masks from a reseeded global generator on every forward
pass, so its numbers are not reproduced here. Instead this example builds the same
situation from seeds: a network far larger than the problem needs,
``layer_dims = [2, 50, 50, 1]`` (ReLU hidden units, He initialisation), is trained
on only 60 noisy "moons" points and tested on 1000 others from the same
distribution, three times: without regularization, with λ = 0.5 and with
``keep_prob = 0.5``.
"""

# %%
# The data and the three runs
# ---------------------------
# :func:`xpnet.datasets.moons` draws the 60 training points with seed 1 and the 1000
# test points with seed 101 (noise 0.3 for both). Each model starts from the same He
# weights (``seed=0``) and takes 5000 full-batch gradient steps with α = 0.5; with
# dropout, the masks come from the same integer seed, so the run is reproducible.

import matplotlib.pyplot as plt
import numpy as np

import xpnet
from xpnet.datasets import moons
from xpnet.initializers import initialize_parameters
from xpnet.plot import plot_costs, plot_decision_boundary

X_train, Y_train = moons(m=60, noise=0.3, seed=1)
X_test, Y_test = moons(m=1000, noise=0.3, seed=101)

LAYER_DIMS = [2, 50, 50, 1]
LAMBDA, KEEP_PROB = 0.5, 0.5
SETTINGS = {"none": {}, "l2": {"l2": LAMBDA}, "dropout": {"keep_prob": KEEP_PROB}}
models, accuracy = {}, {}
for name, regularization in SETTINGS.items():
    model = xpnet.NeuralNetwork(
        LAYER_DIMS,
        hidden_activation="relu",
        init="he",
        seed=0,
        learning_rate=0.5,
        num_iterations=5000,
        record_every=100,
        **regularization,
    )
    models[name] = model.fit(X_train, Y_train)
    accuracy[name] = (model.score(X_train, Y_train), model.score(X_test, Y_test))
    print(f"-- {name}")
    for iteration, cost in model.costs_:
        if iteration % 1000 == 0:
            print(f"Cost after iteration {iteration}: {cost:.6f}")
    print(f"train accuracy: {100 * accuracy[name][0]:.2f} %")
    print(f"test accuracy: {100 * accuracy[name][1]:.2f} %")

# %%
# What the numbers show
# ---------------------
# Without regularization the network classifies all 60 training points correctly
# (its cost falls to nearly 0) but only 87.7 % of the test points: a gap of 12.3
# points. L2 gives up some training points (93.3 %) and gains test accuracy
# (91.2 %): the gap falls to about 2 points. Dropout with ``keep_prob = 0.5``
# narrows the gap to under 10 points (96.7 % / 87.1 %), mostly by fitting the
# training set less closely; on this draw it does not raise test accuracy. With so
# few training points these figures move by a few points from one draw of the data
# to another; in trial runs on five draws, L2 narrowed the gap every time, dropout
# less strongly.
#
# The checks below: the printed accuracies (as counts of points), the gaps, and the
# L2 term itself. All three models start from the same weights, so at iteration 0
# the L2 model's cost exceeds the plain one by exactly (λ / (2m)) Σ ‖W[l]‖²_F of the
# initial weights.

EXPECTED = {"none": (60, 877), "l2": (56, 912), "dropout": (58, 871)}  # points right
for name, (train, test) in EXPECTED.items():
    ours = (round(accuracy[name][0] * 60), round(accuracy[name][1] * 1000))
    assert ours == (train, test), (name, ours)
gap = {name: train - test for name, (train, test) in accuracy.items()}
assert accuracy["none"][0] == 1.0 and gap["none"] > 0.1, gap
assert gap["l2"] < gap["none"] / 4 and accuracy["l2"][1] > accuracy["none"][1], gap
assert gap["dropout"] < gap["none"] - 0.02, gap

W0 = initialize_parameters(LAYER_DIMS, "he", seed=0)
penalty = LAMBDA / (2 * 60) * sum(np.sum(W0[f"W{l}"] ** 2) for l in range(1, 4))
extra = dict(models["l2"].costs_)[0] - dict(models["none"].costs_)[0]
np.testing.assert_allclose(extra, penalty, rtol=1e-10)
print(f"L2 term of J at iteration 0: {penalty:.6f}")
print("The accuracies, the gaps and the L2 term are as stated.")

# %%
# Learning curves and decision boundaries
# ---------------------------------------
# The top row shows the recorded cost: with L2 it includes the penalty and levels
# off well above 0; with dropout it is the cost of the thinned network, which is
# noisy because the masks change at every step. The bottom row colours the plane by
# each model's prediction, with the 60 training points on top: the unregularized
# boundary bends around single noisy points, the L2 one is smooth.

fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), layout="constrained")
TITLES = {"none": "no regularization", "l2": f"L2, λ = {LAMBDA}",
          "dropout": f"dropout, keep_prob = {KEEP_PROB}"}  # fmt: skip
for column, (name, model) in enumerate(models.items()):
    train, test = accuracy[name]
    plot_costs(model, ax=axes[0, column], title=TITLES[name])
    plot_decision_boundary(model, X_train, Y_train, ax=axes[1, column], margin=0.5,
                           title=f"train {100 * train:.1f} %, test {100 * test:.1f} %")  # fmt: skip
plt.show()
