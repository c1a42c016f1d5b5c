"""
Week 2: logistic regression as a neural network, on the cat images
===================================================================

The second week's assignment recognises cats with logistic regression, the
network ``layer_dims = [12288, 1]``: ŷ = σ(wᵀx + b) on the 64 × 64 × 3 pixels of
each image, scaled to [0, 1]. The weights start at zero, and gradient descent runs
2000 iterations with α = 0.005. The notebook reaches 99.04 % training accuracy and
70 % test accuracy: the model overfits.

.. note::
   xpnet ships no data. Run the script with the course's two files,
   ``python examples/plot_week2_logistic_regression.py train_catvnoncat.h5
   test_catvnoncat.h5``, or set ``XPNET_CAT_TRAIN`` and ``XPNET_CAT_TEST``. Without
   them the script says so and exits with status 0, and the gallery shows its code
   without output (it runs there only when those variables are set).
"""

# %%
# The data
# --------

import sys

import matplotlib.pyplot as plt

# _cat_data.py sits beside the examples; Python (and the gallery) puts their folder on sys.path
from _cat_data import cat_files, compare, is_course_data, load_cats

import xpnet
from xpnet.plot import plot_costs

files = cat_files("Week 2: logistic regression on the cat images")
if files is None:
    sys.exit(0)
X_train, Y_train, X_test, Y_test = load_cats(*files)

# %%
# Training
# --------
# ``init="zeros"`` is the course's ``w = np.zeros((dim, 1))``, b = 0. The cost is
# printed every 100 iterations, as in the notebook.

model = xpnet.NeuralNetwork(
    [X_train.shape[0], 1], init="zeros", learning_rate=0.005, num_iterations=2000
)
model.fit(X_train, Y_train)
for iteration, cost in model.costs_:
    print(f"Cost after iteration {iteration}: {cost:.6f}")
train_accuracy, test_accuracy = model.score(X_train, Y_train), model.score(X_test, Y_test)
print(f"train accuracy: {100 * train_accuracy:.2f} %")
print(f"test accuracy: {100 * test_accuracy:.2f} %")

# %%
# The course's numbers
# --------------------

if is_course_data(X_train, X_test):
    compare(
        model.costs_,
        {0: 0.693147, 100: 0.584508, 1000: 0.214820, 1900: 0.140872},
        {"train": (train_accuracy, 207 / 209), "test": (test_accuracy, 35 / 50)},
    )

# %%
# The learning curve
# ------------------

plot_costs(model)
plt.show()
