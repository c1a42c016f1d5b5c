"""Sphinx configuration: API pages from the NumPy-style docstrings, and the examples gallery.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``: every
warning (a docstring numpydoc cannot parse, a broken cross-reference, an example that
fails) fails the build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sphinx.util import logging

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))  # document the checkout, installed or not
sys.path.insert(0, str(HERE))  # _gallery_order, named in sphinx_gallery_conf
os.environ.setdefault("MPLBACKEND", "Agg")

import xpnet  # noqa: E402

project = "xpnet"
author = "the xpnet authors"
copyright = "xpnet authors, BSD-3-Clause"
release = xpnet.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build"]
templates_path = ["_templates"]
html_theme = "alabaster"
html_theme_options = {"description": "Andrew Ng's course networks on any Array API library"}

# -- API pages ---------------------------------------------------------------------------
autosummary_generate = True
autosummary_ignore_module_all = False  # a module page lists its __all__, nothing imported
autodoc_typehints = "none"  # the docstrings give the types, in the course's notation
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False  # autosummary lists members already
numpydoc_class_members_toctree = False
# numpydoc checks the structure of every docstring it renders: a parameter documented
# but not in the signature (PR02, e.g. after a rename), sections out of order or unknown
# (GL06, GL07), a malformed parameter line (PR10), a misplaced deprecation (GL09, GL10),
# a Returns/Yields mismatch (RT02, YD01). Each failure is a warning, so -W fails the build.
numpydoc_validation_checks = {
    "GL06", "GL07", "GL09", "GL10", "PR02", "PR03", "PR10", "RT02", "YD01",
}  # fmt: skip
# A reference to a missing object is an error, so a renamed function cannot leave a
# dangling link behind. Objects of other libraries (no network: no intersphinx) are
# listed here.
nitpicky = True
nitpick_ignore_regex = [
    ("py:.*", r"(numpy|matplotlib|dask|torch|jax|cupy|array_api_strict|sklearn)(\..*)?"),
    ("py:.*", r"(Any|Array|Namespace|Device|DType|TextIO|Path|Callable|Mapping|Sequence)"),
    ("py:.*", r"(os|json)\..*"),  # the standard library
    ("py:mod", r"xpnet\._.*"),  # private modules (the backend layer) have no pages
]


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out members a class inherits or receives from scikit-learn (set_*_request...):
    their docstrings point into scikit-learn's own documentation."""
    module = getattr(obj, "__module__", None) or ""
    return True if module.startswith("sklearn") else None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)


# -- The gallery ---------------------------------------------------------------------------
logger = logging.getLogger("xpnet.docs")
_have_cats = all(os.environ.get(v) for v in ("XPNET_CAT_TRAIN", "XPNET_CAT_TEST"))
if not _have_cats:
    logger.info(
        "xpnet: the cat examples (week 2, week 4) are shown without running them: "
        "set XPNET_CAT_TRAIN and XPNET_CAT_TEST to the course's .h5 files to run them"
    )

sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    # Run every example, except the cat ones when their data is absent.
    "filename_pattern": r"[\\/]plot_" if _have_cats else r"[\\/]plot_(?!week2_|week4_)",
    "ignore_pattern": r"^_",  # helpers such as _cat_data.py (matched on the file name)
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "_gallery_order.CourseOrder",  # docs/_gallery_order.py
    "image_scrapers": ("matplotlib",),
}
