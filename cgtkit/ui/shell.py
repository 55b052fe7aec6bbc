"""What every page shares: its frame (title, status line), links to other pages,
the navigation bar and footer the app shows once, and guarded handlers.

The error policy lives here. A handler runs inside :meth:`StatusArea.guard`: a
:class:`~cgtkit.errors.CgtkitError` becomes its plain message in the page; any
other exception is logged with its traceback and the user sees one sentence.
Nothing reaches Voila's error box, and the page keeps its previous state.
"""

from __future__ import annotations

import html
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import ipywidgets as w

from cgtkit import __version__
from cgtkit.errors import CgtkitError

log = logging.getLogger("cgtkit")

DISCLAIMER = (
    "cgtkit is a planning aid, not regulatory advice. Each flexibility must be justified with data "
    "and discussed with FDA before it is used."
)
UNEXPECTED = (
    "Something went wrong that cgtkit did not expect. Your inputs are unchanged; "
    "the details were written to the app's log. Please try again or reload the page."
)


def esc(text: object) -> str:
    """HTML-escape any value for use inside an HTML widget."""
    return html.escape(str(text), quote=True)


def style_widget() -> w.HTML:
    """The app's stylesheet as an invisible HTML widget (Voila serves no local CSS files)."""
    css = resources.files("cgtkit.ui").joinpath("style.css").read_text(encoding="utf-8")
    return w.HTML(f"<style>{css}</style>", layout=w.Layout(height="0px", margin="0"))


def message_html(kind: str, text: str) -> str:
    return f'<div class="cgt-msg cgt-msg-{kind}">{esc(text)}</div>'


class StatusArea(w.HTML):
    """A page's (or panel's) message line. ``kind`` is info, success, warning or error."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(value="", **kwargs)
        self.add_class("cgt-status")
        self.kind = ""
        self.text = ""

    def show(self, kind: str, text: str) -> None:
        self.kind, self.text = kind, text
        self.value = message_html(kind, text)
        for k in ("info", "success", "warning", "error"):
            self.remove_class(f"cgt-status-{k}")
        self.add_class(f"cgt-status-{kind}")

    def clear(self) -> None:
        self.kind, self.text = "", ""
        self.value = ""

    @contextmanager
    def guard(self, busy: list[w.Widget] | None = None) -> Iterator[None]:
        """Run a handler: disable ``busy`` widgets, clear, catch and report errors, re-enable."""
        controls = busy or []
        previous = [getattr(c, "disabled", False) for c in controls]
        for c in controls:
            if hasattr(c, "disabled"):
                c.disabled = True
        self.clear()
        try:
            yield
        except CgtkitError as exc:
            log.info("input problem: %s", exc)
            self.show("error", str(exc))
        except Exception:  # noqa: BLE001 - the last line of defence for the user
            log.exception("unexpected error in a cgtkit handler")
            self.show("error", UNEXPECTED)
        finally:
            for c, was in zip(controls, previous, strict=True):
                if hasattr(c, "disabled"):
                    c.disabled = was

    def guarded(self, handler: Callable[..., Any], busy: list[w.Widget] | None = None) -> Callable[..., None]:
        """Wrap a widget callback so it runs under :meth:`guard`."""

        def run(*args: Any, **kwargs: Any) -> None:
            with self.guard(busy):
                handler(*args, **kwargs)

        return run


PLOTLY_MIME = "application/vnd.plotly.v1+json"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def show_figure(out: w.Output, fig: Any) -> None:
    """Show a plotly figure in ``out`` as plotly's own MIME type, rendered by the plotly extension
    that JupyterLab and Voila load.

    Not ``display(fig)``: plotly's renderer machinery imports nbformat (and through it jsonschema,
    whose format checkers compile a grammar: about 3 s in a new kernel) and puts all of plotly.js
    (4.6 MB) into the first output of every kernel.
    """
    import json

    bundle = {PLOTLY_MIME: {**json.loads(fig.to_json()), "config": PLOTLY_CONFIG}}
    # Setting the outputs directly (not ``with out: display(...)``) replaces the figure in one
    # message, and works the same in a kernel, in JupyterLab and in tests.
    out.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)


class Confirm:
    """Ask before something that cannot be undone or replaces the user's work.

    ``ask(question, on_yes)`` shows the question (a warning in ``status``) and
    two buttons; "Yes" runs ``on_yes`` under the status guard, "Cancel" leaves
    everything as it was.
    """

    def __init__(self, status: StatusArea, yes: str = "Yes, go ahead") -> None:
        self.status = status
        self._default_yes = yes
        self.yes = w.Button(description=yes, button_style="danger", layout=w.Layout(width="auto"))
        self.yes.add_class("cgt-confirm-yes")
        self.cancel = w.Button(description="Cancel", layout=w.Layout(width="auto"))
        self.cancel.add_class("cgt-confirm-cancel")
        self.widget = w.HBox([self.yes, self.cancel], layout=w.Layout(display="none"))
        self.widget.add_class("cgt-confirm")
        self._action: Callable[[], None] | None = None
        self.yes.on_click(status.guarded(self._on_yes, busy=[self.yes]))
        self.cancel.on_click(status.guarded(lambda _b: self.close()))

    @property
    def pending(self) -> bool:
        return self._action is not None

    def ask(self, question: str, on_yes: Callable[[], None], yes: str | None = None, danger: bool = True) -> None:
        """``yes`` labels the button for this question (else the default); ``danger=False`` for an answer
        that replaces nothing (adding a copy), shown in the ordinary colour rather than red."""
        self._action = on_yes
        self.yes.description = yes or self._default_yes
        self.yes.button_style = "danger" if danger else "primary"
        self.widget.layout.display = "flex"
        self.status.show("warning", question)

    def close(self) -> None:
        self._action = None
        self.widget.layout.display = "none"
        self.status.clear()

    def _on_yes(self, _button: w.Button) -> None:
        action, self._action = self._action, None
        self.widget.layout.display = "none"
        if action is not None:
            action()


def page_link_html(page_id: str, text: str | None = None, css: str = "cgt-page-link") -> str:
    """A link to another page of the app. The app's router catches the click and switches page in
    the same kernel; the ``href`` alone opens the app on that page (a bookmark, a new tab)."""
    from cgtkit.pages import page

    p = page(page_id)
    label = esc(text if text is not None else p.title)
    if not p.available:
        return f"<span class='cgt-planned-title'>{label}</span>"
    return f'<a href="{esc(p.href)}" data-cgt-page="{esc(p.id)}" target="_self" class="{esc(css)}">{label}</a>'


def nav_html(current: str) -> str:
    """The navigation bar: every built page, the current one marked."""
    from cgtkit.pages import available_pages

    parts = []
    for p in available_pages():
        if p.id == current:
            parts.append(f'<span class="cgt-nav-current" data-cgt-page="{esc(p.id)}">{esc(p.title)}</span>')
        else:
            parts.append(page_link_html(p.id, css=f"cgt-nav-link cgt-nav-{p.id}"))
    return '<div class="cgt-nav">' + "".join(parts) + "</div>"


def footer() -> w.HTML:
    return w.HTML(f'<div class="cgt-footer">{esc(DISCLAIMER)} cgtkit {esc(__version__)}.</div>')


def page_frame(page_id: str, title: str, subtitle: str, body: list[w.Widget], status: StatusArea) -> w.VBox:
    """One page inside the app: its title, status line and body (the app adds navigation and footer)."""
    head = w.HTML(
        f'<div class="cgt-header"><h1>{esc(title)}</h1><div class="cgt-sub">{esc(subtitle)}</div></div>'
    )
    box = w.VBox([head, status, *body])
    box.add_class("cgt-page")
    box.add_class(f"cgt-page-{page_id}")
    return box


def error_page(page_id: str, exc: BaseException) -> w.VBox:
    """What a page shows when it cannot be built at all: a sentence, never a traceback.

    The frame needs no data file, so it can carry the message even when
    ``data/pages.yaml`` is broken.
    """
    status = StatusArea()
    if isinstance(exc, CgtkitError):
        log.info("page %s could not open: %s", page_id, exc)
        status.show("error", f"This page could not open: {exc}")
    else:
        log.error("page %s failed to build", page_id, exc_info=exc)
        status.show("error", "This page could not open. " + UNEXPECTED)
    return page_frame(page_id, "cgtkit", "The page could not be built.", [], status)


def configure_logging() -> None:
    """Send cgtkit's log to the kernel process's own stderr, which Voila writes to its server log.

    ``sys.stderr`` in a kernel is forwarded to the page; a traceback logged
    there would be shown to the user, which cgtkit never does. In JupyterLab the
    kernel forwards even the process's stderr to the notebook, so there only
    warnings and errors are written (Voila's server log gets everything).
    """
    if any(getattr(h, "_cgtkit", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setLevel(logging.INFO if os.environ.get("VOILA_KERNEL_ID") else logging.WARNING)
    handler.setFormatter(logging.Formatter("cgtkit %(levelname)s %(name)s: %(message)s"))
    handler._cgtkit = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
