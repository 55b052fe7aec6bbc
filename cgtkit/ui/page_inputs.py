"""What the user entered on a page, kept beside the workbook: a reload, a restart or a new tab shows it again.

The workbook holds decisions, and every change to it enters the audit log. A page's inputs before a
decision (the change described and the attributes ranked for a comparability study, the answers and
rationales of the PPQ planner) are not decisions, yet losing them on a reload loses work. They are
saved, on every change, to ``<workbook>.inputs.json`` beside the workbook file (outside the audit
log, and without touching the workbook, so the other pages do not see a change); opening another
workbook or starting over clears them (:meth:`cgtkit.session.WorkbookStore.replace`).

A page model takes part by listing its inputs and how to hold its derivations while they are set
(:class:`KeepsInputs`); :func:`keep_inputs` restores what the model can still take (a value no
longer among its options, say a data set since removed, is skipped) and then saves every change.
Two tabs on one page both save; the last change wins.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Protocol

__all__ = ["InputsFile", "KeepsInputs", "Quietly", "keep_inputs", "keep_page_inputs"]

FORMAT = 1


class KeepsInputs(Protocol):
    """A page model whose inputs are kept: ``INPUTS`` names its traits in the order they are restored
    (a choice after the trait that sets its options); ``quietly()`` holds the model's derivations
    while they are set, and ``restored(names)`` derives everything once from them. Optional:
    ``INPUT_OPTIONS`` (name -> its options trait, when not ``<name>_options``) and ``INPUT_FOLLOWS``
    (name -> the input it was chosen within: skipped when that one could not be restored)."""

    INPUTS: ClassVar[tuple[str, ...]]

    def quietly(self) -> contextlib.AbstractContextManager[None]: ...

    def restored(self, names: set[str]) -> None: ...


class Quietly:
    """Mixin of a page model whose observers derive nothing while ``_busy`` is set: :meth:`quietly` sets
    it for a block (nested blocks keep it), so that several traits change with one derivation after."""

    _busy = False

    @contextlib.contextmanager
    def quietly(self) -> Iterator[None]:
        busy, self._busy = self._busy, True
        try:
            yield
        finally:
            self._busy = busy


class InputsFile:
    """The inputs of every page of one workbook, ``{"format": 1, "pages": {page: {name: value}}}``, in
    the file :attr:`cgtkit.session.WorkbookStore.inputs_path` names."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]]:
        """Every page's inputs; nothing when the file is missing or unreadable (inputs are a convenience:
        a damaged file must never stop a page from opening)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        pages = data.get("pages") if isinstance(data, dict) and data.get("format") == FORMAT else None
        return {k: v for k, v in pages.items() if isinstance(v, dict)} if isinstance(pages, dict) else {}

    def page(self, key: str) -> dict[str, Any]:
        return self.read().get(key, {})

    def save_page(self, key: str, values: dict[str, Any]) -> None:
        """Replace one page's inputs, keeping the others; written whole (temporary file, then renamed)."""
        with self._locked():
            pages = self.read()
            pages[key] = values
            text = json.dumps({"format": FORMAT, "pages": pages}, ensure_ascii=False, sort_keys=True, indent=1)
            handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(text)
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _plain(value: Any) -> Any:
    """A trait's value as JSON holds it (tuples as lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _allowed(model: Any, name: str, value: Any) -> bool:
    """Whether ``value`` (each of a list) is among the model's options for ``name``: the trait named in
    the model's ``INPUT_OPTIONS``, else ``<name>_options``; True when the model has none. An empty
    choice is allowed only where the options allow it (no options, or "" among them): an empty list
    of process versions saved for a data set without any is no choice for one that has them."""
    trait = getattr(type(model), "INPUT_OPTIONS", {}).get(name, f"{name}_options")
    options = getattr(model, trait, None)
    if options is None:
        return True
    known = {o[1] if isinstance(o, list | tuple) else o for o in options}
    values = value if isinstance(value, list) else [value]
    if not values:
        return not known
    return all(v in known for v in values) or (value == "" and not known)


def _merged(current: Any, saved: Any) -> Any:
    """A dict of choices over what the page shows (ranks by attribute, say) takes the saved choice of each
    key it still has; an empty one (edits not made yet) takes the saved dict whole."""
    if isinstance(current, dict) and isinstance(saved, dict) and current:
        return {k: saved.get(str(k), v) for k, v in current.items()}
    return saved


def keep_inputs(model: Any, inputs: InputsFile, key: str) -> set[str]:
    """Sets ``model``'s inputs as saved under ``key`` (those it can still take), derives once, then
    saves every later change. Returns the names restored.

    Only what differs from what the page shows on its own is saved: an answer the page prefilled from
    the product profile is not frozen, so a changed profile prefills it anew next time."""
    own = {name: _plain(getattr(model, name)) for name in model.INPUTS}
    follows = getattr(type(model), "INPUT_FOLLOWS", {})
    saved = inputs.page(key)
    restored: set[str] = set()
    skipped: set[str] = set()
    with model.quietly():
        for name in model.INPUTS:
            if name not in saved:
                continue
            if follows.get(name) in skipped:  # chosen within a data set (say) that could not come back
                skipped.add(name)
                continue
            current = getattr(model, name)
            value = _merged(current, saved[name])
            if _plain(current) == _plain(value):
                continue
            if not _allowed(model, name, value):
                skipped.add(name)
                continue
            try:
                setattr(model, name, tuple(value) if isinstance(current, tuple) else value)
            except Exception:  # noqa: BLE001 - a value the page can no longer take is skipped; it must open
                skipped.add(name)
                continue
            restored.add(name)
    if restored:
        model.restored(restored)

    def save(_change: dict[str, Any]) -> None:
        now = {name: _plain(getattr(model, name)) for name in model.INPUTS}
        try:
            inputs.save_page(key, {name: value for name, value in now.items() if value != own[name]})
        except OSError:  # a read-only disk loses the convenience, never the page
            pass

    model.observe(save, names=list(model.INPUTS))
    return restored


def keep_page_inputs(model: Any, inputs_path: str | os.PathLike[str], page_id: str) -> None:
    """A page model's inputs, and those of its lot selection when it has one (restored first: the
    page's own inputs, such as the PPQ lots planned, follow the selection)."""
    inputs = InputsFile(inputs_path)
    selection = getattr(model, "selection", None)
    if selection is not None:
        keep_inputs(selection, inputs, f"{page_id}.selection")
    if model.INPUTS:
        keep_inputs(model, inputs, page_id)
