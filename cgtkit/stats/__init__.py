"""Statistics as pure functions of numbers: arrays, ``sided``/``side``, ``scale`` ("normal"/"log"), censoring codes.

Nothing here knows pages, units, attribute metadata or regulations, and no
module imports a cgtkit module but :mod:`cgtkit.errors` (``tests/unit/test_layers.py``
checks it). Bad arguments raise :class:`ValueError`; problems in the user's data
raise :class:`cgtkit.errors.InsufficientDataError`. :mod:`cgtkit.analyses` turns
attribute metadata and the user's choices into these calls.

:mod:`~cgtkit.stats.tolerance`     tolerance factors and intervals (normal, distribution-free)
:mod:`~cgtkit.stats.oos_risk`      risk that future lots fall outside limits set from n lots
:mod:`~cgtkit.stats.control_chart` individuals chart with typed Western Electric rule hits
"""
