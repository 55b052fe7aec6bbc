"""cgtkit: a decision workbook for FDA's CMC flexibilities for cell and gene therapy.

Importing the package is light on purpose: pandas, scipy, plotly and ipywidgets
are imported by the submodules that need them, not here.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cgtkit")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
