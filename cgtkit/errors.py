"""One hierarchy of errors whose messages a person can act on.

Every error cgtkit raises on purpose derives from :class:`CgtkitError`, so a page
can catch that one class, show its message in the status area, and keep the
user's previous state. Messages say what was wrong, where, and how to fix it.
"""

from __future__ import annotations


class CgtkitError(ValueError):
    """Base class: a problem with the user's input that the user can fix."""


class LotDataError(CgtkitError):
    """A lot data file cannot be read into the cgtkit long format."""


class SessionError(CgtkitError):
    """A workbook session file cannot be read or written."""


class CatalogError(CgtkitError):
    """The flexibility catalog or another data file in ``data/`` is invalid."""


class ProfileError(CgtkitError):
    """A product profile is inconsistent (e.g. post-approval with no lots made)."""


class InsufficientDataError(CgtkitError):
    """A statistic cannot be computed from the data given (too few lots, zero variance...)."""
