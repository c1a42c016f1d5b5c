"""
Week 4: a two-layer and an L-layer network on the cat images
=============================================================

The fourth week's application trains two networks on the cat images, both with
ReLU hidden layers and a sigmoid output, by 2500 iterations of gradient descent with
α = 0.0075:

* the two-layer model ``[12288, 7, 1]``, weights ``randn · 0.01`` after
  ``np.random.seed(1)`` (``init="random"``): 100 % training and 72 % test accuracy;
* the four-layer model ``[12288, 20, 7, 5, 1]``, weights ``randn / √n[l-1]`` after
  ``np.random.seed(1)`` (``init="lecun"``): 98.56 % training and 80 % test accuracy.

.. note::
   xpnet ships no data. Run the script with the course's two files,
   ``python examples/plot_week4_deep_cat.py train_catvnoncat.h5 test_catvnoncat.h5``,
   or set ``XPNET_CAT_TRAIN`` and ``XPNET_CAT_TEST``. Without them the script says
   so and exits with status 0, and the gallery shows its code without output (it
   runs there only when those variables are set).
"""

# %%
# The data
# --------

import sys

import matplotlib.pyplot as plt
import numpy as np

# _cat_data.py sits beside the examples; Python (and the gallery) puts their folder on sys.path
from _cat_data import cat_files, compare, is_course_data, load_cats

import xpnet
from xpnet.plot import plot_costs

files = cat_files("Week 4: two-layer and L-layer networks on the cat images")
if files is None:
    sys.exit(0)
X_train, Y_train, X_test, Y_test = load_cats(*files)
n_x = X_train.shape[0]

# %%
# The two networks
# ----------------
# ``seed=np.random.RandomState(1)`` makes the course's draws: ``randn(n[l], n[l-1])``
# for l = 1, 2, ... from one legacy stream seeded with 1.

COURSE = {  # the notebook's costs at iterations 0, 100 and 2400, train and test accuracy
    "two-layer": ([n_x, 7, 1], "random", {0: 0.693050, 100: 0.646432, 2400: 0.048555},
                  209 / 209, 36 / 50),
    "L-layer": ([n_x, 20, 7, 5, 1], "lecun", {0: 0.771749, 100: 0.672053, 2400: 0.092878},
                206 / 209, 40 / 50),
}  # fmt: skip

models = {}
for name, (dims, init, course_costs, course_train, course_test) in COURSE.items():
    model = xpnet.NeuralNetwork(
        dims,
        hidden_activation="relu",
        init=init,
        seed=np.random.RandomState(1),
        learning_rate=0.0075,
        num_iterations=2500,
        record_every=100,
    )
    model.fit(X_train, Y_train)
    models[name] = model
    print(f"-- {name} model {dims}")
    for iteration, cost in model.costs_:
        print(f"Cost after iteration {iteration}: {cost:.6f}")
    train_accuracy = model.score(X_train, Y_train)
    test_accuracy = model.score(X_test, Y_test)
    print(f"train accuracy: {100 * train_accuracy:.2f} %")
    print(f"test accuracy: {100 * test_accuracy:.2f} %")
    if is_course_data(X_train, X_test):
        compare(
            model.costs_,
            course_costs,
            {"train": (train_accuracy, course_train), "test": (test_accuracy, course_test)},
        )

# %%
# The learning curves
# -------------------

fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for ax, (name, model) in zip(axes, models.items(), strict=True):
    plot_costs(model, ax=ax, title=f"{name}, learning rate = {model.learning_rate}")
plt.show()
