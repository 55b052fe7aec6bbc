"""The workbook's pages: which exist, which are planned, and their links.

Read from ``data/pages.yaml`` so the home page, the navigator and the tests agree
on one list. A page with ``notebook = None`` is planned: named, never linked.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, ValidationError

from cgtkit.datafiles import read_yaml, validation_message
from cgtkit.errors import CatalogError


class Page(BaseModel):
    """One page of the workbook."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    notebook: str | None
    summary: str

    @property
    def available(self) -> bool:
        return self.notebook is not None

    @property
    def voila_url(self) -> str | None:
        """Relative link between pages served by ``voila notebooks/``."""
        return f"./{self.notebook}" if self.notebook else None


class _PagesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int
    pages: list[Page]


@lru_cache(maxsize=1)
def load_pages() -> tuple[Page, ...]:
    """All pages in display order."""
    try:
        parsed = _PagesFile.model_validate(read_yaml("pages.yaml"))
    except ValidationError as exc:
        raise CatalogError(validation_message("data/pages.yaml", exc)) from exc
    ids = [p.id for p in parsed.pages]
    if len(ids) != len(set(ids)):
        raise CatalogError("data/pages.yaml lists the same page id twice.")
    return tuple(parsed.pages)


def page(page_id: str) -> Page:
    """Look up one page by id."""
    for p in load_pages():
        if p.id == page_id:
            return p
    raise CatalogError(f"Unknown page id {page_id!r}; known: {', '.join(p.id for p in load_pages())}.")
