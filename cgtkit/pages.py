"""The workbook's pages: which exist, which are planned, which module builds each.

Read from ``data/pages.yaml`` so the app's navigation, the home page, the
navigator and the tests agree on one list. A page with ``module = None`` is
planned: named, never linked.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cgtkit.datafiles import load_model, repeated_ids
from cgtkit.errors import CatalogError

PAGES_FILE = "pages.yaml"


class Page(BaseModel):
    """One page of the workbook."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    module: str | None = Field(description="Module with build_page(store, page_id); None while planned.")
    notebook: str | None = Field(description="Notebook that opens the app on this page; None while planned.")
    summary: str

    @model_validator(mode="after")
    def _built_pages_have_both(self) -> Page:
        if (self.module is None) != (self.notebook is None):
            raise ValueError("give both module and notebook, or neither (a planned page)")
        return self

    @property
    def available(self) -> bool:
        return self.module is not None

    @property
    def href(self) -> str | None:
        """The in-app link: the app's router catches it without a reload; without the router
        (e.g. JavaScript off) it opens the app on this page."""
        return f"?page={self.id}" if self.available else None


class _PagesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int
    pages: list[Page]


@lru_cache(maxsize=1)
def load_pages() -> tuple[Page, ...]:
    """All pages in display order, from ``pages.yaml`` in :func:`cgtkit.datafiles.data_dir`.

    Raises :class:`CatalogError` (naming the file, the entry and the field) when
    the file is missing or invalid, or when two pages share an id. Cached: call
    ``load_pages.cache_clear()`` after editing the file in a running session.
    """
    parsed = load_model(PAGES_FILE, _PagesFile)
    problems = repeated_ids(PAGES_FILE, parsed.pages)
    if problems:
        raise CatalogError(" ".join(problems))
    return tuple(parsed.pages)


def available_pages() -> tuple[Page, ...]:
    """The pages that are built, in navigation order."""
    return tuple(p for p in load_pages() if p.available)


def page(page_id: str) -> Page:
    """Look up one page by id."""
    for p in load_pages():
        if p.id == page_id:
            return p
    raise CatalogError(f"Unknown page id {page_id!r}; known: {', '.join(p.id for p in load_pages())}.")
