"""Fixtures shared by the page tests: the example workbook, and a store holding it."""

from __future__ import annotations

import pytest

from cgtkit.session import Session, WorkbookStore


@pytest.fixture()
def session() -> Session:
    """The example workbook (profile, CAR-T and AAV lot and stability data), fresh for each test."""
    return Session.example()


@pytest.fixture()
def store(tmp_path, session: Session) -> WorkbookStore:
    """A workbook file holding ``session``, as the app keeps it."""
    s = WorkbookStore(tmp_path / "wb.json")
    s.replace(session)
    return s
