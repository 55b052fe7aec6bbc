"""The lot selection a specifications page works on, shared by its pages as a sub-model.

:class:`LotSelection` holds the data set, the attribute and the lot types as
traits, with the options each may take; it follows the workbook
(:meth:`LotSelection.use_session`) and keeps choices that still exist.
:class:`LotSelectionControls` are its widgets, linked to those traits. A page
model composes a ``LotSelection`` and observes :attr:`LotSelection.changed`,
which ticks once per change of selection, however many traits moved.

Criteria come from one process version by default (the latest with enough lots
of the chosen types): lots of two processes are pooled only when the user ticks
a second version, and :attr:`LotSelection.mixing_note` then names the versions
and their lots.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar

import ipywidgets as w
import pandas as pd
from traitlets import Any as AnyTrait
from traitlets import HasTraits, Int, List, Tuple, Unicode, observe

from cgtkit.analyses.specifications import MIN_LOTS, AttributeData, attribute_data
from cgtkit.attributes import AttributeSpec, get_attribute, load_attributes
from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.io import lots_summary
from cgtkit.session import Session
from cgtkit.ui.decision_panel import lot_datasets
from cgtkit.ui.page_inputs import Quietly
from cgtkit.ui.shell import StatusArea
from cgtkit.vocab import LOT_TYPES, AttributeKind, LotType


class LotSelection(Quietly, HasTraits):
    """Data set, attribute and lot types, with their options, for one page."""

    dataset = Unicode("")
    attribute = Unicode("")
    lot_types = List(Unicode())
    process_versions = List(Unicode(), help="Versions the lots come from; [] when the data name none.")
    dataset_options = List(Unicode(), read_only=True)
    version_options = List(Tuple(Unicode(), Unicode()), read_only=True,
                           help="(label with its lot count, version) for the chosen lot types.")
    attribute_options = List(Tuple(Unicode(), Unicode()), read_only=True)
    changed = Int(0, read_only=True, help="Ticks once per change of selection.")

    def __init__(self, session: Session, default_lot_types: Sequence[str]) -> None:
        super().__init__()
        self.default_lot_types = [str(LotType(t)) for t in default_lot_types]
        self._frames: dict[str, pd.DataFrame] = {}
        self._versions_chosen = False  # True once the user picks versions; until then the default follows
        self.session = session
        with self.hold_trait_notifications():
            self.lot_types = list(self.default_lot_types)
            self.use_session(session)

    # -- the workbook ---------------------------------------------------
    def use_session(self, session: Session) -> None:
        """Follow a changed workbook, keeping the data set and attribute if they still exist."""
        self.session = session
        self._frames.clear()
        options = lot_datasets(session)
        with self.hold_trait_notifications():
            self.set_trait("dataset_options", options)
            dataset = self.dataset if self.dataset in options else options[0]
            if dataset == self.dataset:
                self._update_attributes()
            self.dataset = dataset
        self._tick()

    def frame(self) -> pd.DataFrame:
        """The selected data set (parsed once per workbook version)."""
        if self.dataset not in self._frames:
            self._frames[self.dataset] = self.session.dataset_frame(self.dataset)
        return self._frames[self.dataset]

    @property
    def spec(self) -> AttributeSpec:
        return get_attribute(self.attribute)

    def data(self, attribute: str | None = None, lot_types: Sequence[str] | None = ()) -> AttributeData:
        """Results of ``attribute`` (default: the selected one) for the selected lot types;
        ``lot_types=None`` for every lot."""
        chosen = self.lot_types if lot_types == () else lot_types
        data = attribute_data(self.frame(), get_attribute(attribute or self.attribute), chosen)
        if self.version_options and "process_version" in data.lots:
            keep = data.lots["process_version"].astype(str).isin(self.process_versions)
            data = AttributeData(spec=data.spec, lots=data.lots[keep].reset_index(drop=True))
        return data

    # -- process versions -----------------------------------------------
    def version_counts(self) -> dict[str, int]:
        """Lots of the chosen lot types per process version, in order of each version's first lot."""
        summary = lots_summary(self.frame())
        summary = summary[summary["lot_type"].isin(self.lot_types) & summary["process_version"].notna()]
        return {str(v): int(n) for v, n in summary.groupby("process_version", sort=False).size().items()}

    def default_versions(self, counts: dict[str, int]) -> list[str]:
        """The latest version with enough lots for statistical limits, else the latest one."""
        enough = [v for v, n in counts.items() if n >= MIN_LOTS]
        return [(enough or list(counts))[-1]] if counts else []

    @property
    def versions_note(self) -> str:
        """Which process versions the criteria come from, when the data hold more than one; '' otherwise."""
        if len(self.version_options) < 2:
            return ""
        if len(self.process_versions) > 1:
            return self.mixing_note
        counts = self.version_counts()
        chosen = self.process_versions[0] if self.process_versions else ""
        others = ", ".join(f"{v} ({n} lots)" for v, n in counts.items() if v != chosen)
        return (f"Criteria from process version {chosen} only ({counts.get(chosen, 0)} lots of the chosen types). "
                f"Also in the data: {others}. Tick a version to pool its lots, once comparability supports it.")

    @property
    def mixing_note(self) -> str:
        """A warning when lots of more than one process version are pooled; '' otherwise."""
        if len(self.process_versions) < 2:
            return ""
        counts = self.version_counts()
        parts = ", ".join(f"{v} ({counts.get(v, 0)} lots)" for v in self.process_versions)
        return (f"Lots of {len(self.process_versions)} process versions are pooled: {parts}. Pooling assumes the "
                "change did not move this attribute; show comparability of the versions before setting one "
                "criterion from both, or untick all but one version.")

    def _update_versions(self) -> None:
        counts = self.version_counts()
        options = [(f"{v} ({n} lots)", v) for v, n in counts.items()]
        kept = [v for v in self.process_versions if v in counts]
        chosen = kept if (self._versions_chosen and kept) else self.default_versions(counts)
        self._setting_versions = True  # part of a larger change, which ticks once
        try:
            self.set_trait("version_options", options)
            self.process_versions = chosen
        finally:
            self._setting_versions = False

    def choose_versions(self, versions: Sequence[str]) -> None:
        """The user's choice of versions (kept across changes of lot type and attribute)."""
        if not versions:
            raise InsufficientDataError("Select at least one process version to set the criteria from.")
        self._versions_chosen = True
        self.process_versions = list(versions)

    # -- options --------------------------------------------------------
    def _attribute_options(self) -> list[tuple[str, str]]:
        known = list(load_attributes())
        present = sorted(pd.unique(self.frame()["attribute"]),
                         key=lambda a: (known.index(a) if a in known else len(known), a))
        options = []
        for attr in present:
            spec = get_attribute(str(attr))
            suffix = " — fixed safety requirement" if spec.kind is AttributeKind.SAFETY_FIXED else ""
            options.append((f"{spec.label}{suffix}", spec.id))
        return options

    def _update_attributes(self) -> None:
        self._update_versions()
        options = self._attribute_options()
        ids = [a for _label, a in options]
        keep = self.attribute if self.attribute in ids else next(
            (a for a in ids if get_attribute(a).kind is not AttributeKind.SAFETY_FIXED), ids[0] if ids else "")
        with self.hold_trait_notifications():
            self.set_trait("attribute_options", options)
            self.attribute = keep

    @observe("dataset")
    def _on_dataset(self, change: dict[str, Any]) -> None:
        previous = change["old"]
        self._versions_chosen = False  # another data set: its own default version
        try:
            self._update_attributes()
        except Exception:
            self.set_trait("dataset", previous)  # a data set that cannot be read leaves the selection as it was
            raise
        self._tick()

    @observe("lot_types")
    def _on_lot_types(self, _change: dict[str, Any]) -> None:
        self._update_versions()
        self._tick()

    @observe("attribute", "process_versions")
    def _on_choice(self, _change: dict[str, Any]) -> None:
        if not getattr(self, "_setting_versions", False):
            self._tick()

    def _tick(self) -> None:
        if not self._busy:  # quietly(): the page recomputes on every tick; restored() ticks once
            self.set_trait("changed", self.changed + 1)

    # -- the user's inputs, kept beside the workbook (cgtkit.ui.page_inputs) ------------
    INPUTS: ClassVar[tuple[str, ...]] = ("dataset", "lot_types", "attribute", "process_versions")
    INPUT_OPTIONS: ClassVar[dict[str, str]] = {"process_versions": "version_options", "lot_types": "lot_type_options"}
    INPUT_FOLLOWS: ClassVar[dict[str, str]] = {"attribute": "dataset", "process_versions": "dataset"}

    @property
    def lot_type_options(self) -> list[str]:
        return [str(t) for t in LotType]

    def restored(self, names: set[str]) -> None:
        if "process_versions" in names:
            self._versions_chosen = True
        self._tick()


def follow_dataset(model: Any, change: dict[str, Any]) -> None:
    """A page model's new data set: ``model._follow_dataset()`` updates what depends on it, quietly
    (:class:`cgtkit.ui.page_inputs.Quietly`) so the traits it moves do not each recompute; a data set
    that cannot be read leaves the choice as it was. Recomputes once, unless a larger change (quiet
    already) does at its end."""
    busy = model._busy
    with model.quietly():
        try:
            model._follow_dataset()
        except CgtkitError:
            model.set_trait("dataset", change["old"])
            raise
    if not busy:
        model.recompute()


def bind_choice(dropdown: w.Dropdown, model: HasTraits, value: str, options: str,
                guard: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
    """Keep a dropdown and a model's (options, value) traits in step, both ways.

    A plain ``link`` cannot do it: given new options, a dropdown resets its value
    before the model's new value arrives. Here the model's options and value go
    to the dropdown together (the dropdown's own intermediate value is not sent
    back), and the user's choice goes to the model inside ``guard`` (a page's
    status guard: an error becomes a message, never a traceback).
    """
    pushing = [False]

    def push(_change: Any = None) -> None:
        pushing[0] = True
        try:
            dropdown.options = list(getattr(model, options))
            current = getattr(model, value)
            dropdown.value = current if current in {v for _l, v in _pairs(dropdown.options)} else None
        finally:
            pushing[0] = False

    def pull(change: dict[str, Any]) -> None:
        if pushing[0] or change["new"] is None or change["new"] == getattr(model, value):
            return
        with guard():
            setattr(model, value, change["new"])
        if getattr(model, value) != change["new"]:  # refused: show the model's value again
            push()

    model.observe(push, names=[options, value])
    dropdown.observe(pull, names="value")
    push()


def _pairs(options: Any) -> list[tuple[str, Any]]:
    return [o if isinstance(o, tuple) else (str(o), o) for o in options]


class LotSelectionControls:
    """The selection's widgets: data set and attribute dropdowns, one checkbox per lot type.

    Unticking the last lot type is refused: the box comes back on and the
    page's status says why.
    """

    def __init__(self, selection: LotSelection, lot_type_caption: str, status: StatusArea) -> None:
        self.selection = selection
        self.status = status
        self.dataset = w.Dropdown(description="Data set")
        self.attribute = w.Dropdown(description="Attribute", layout=w.Layout(width="420px"))
        self.dataset.add_class("cgt-dataset")
        self.attribute.add_class("cgt-attribute")
        bind_choice(self.dataset, selection, "dataset", "dataset_options", guard=status.guard)
        bind_choice(self.attribute, selection, "attribute", "attribute_options", guard=status.guard)
        self.lot_boxes = {t: w.Checkbox(description=LotType(t).value, value=t in selection.lot_types, indent=False,
                                        layout=w.Layout(width="120px")) for t in LOT_TYPES}
        for box in self.lot_boxes.values():
            box.observe(self._on_box, names="value")
        selection.observe(self._on_lot_types, names="lot_types")
        lot_row = w.HBox([w.HTML(f"<b>{lot_type_caption}</b>&nbsp;"), *self.lot_boxes.values()])
        lot_row.add_class("cgt-lot-types")
        self.version_boxes: dict[str, w.Checkbox] = {}
        self.version_row = w.HBox()
        self.version_row.add_class("cgt-versions")
        self.version_note = w.HTML()
        self.version_note.add_class("cgt-version-note")
        selection.observe(self._show_versions, names=["version_options", "process_versions", "changed"])
        self._show_versions()
        self.widget = w.VBox([w.HBox([self.dataset, self.attribute]), lot_row, self.version_row, self.version_note])

    def _show_versions(self, _change: Any = None) -> None:
        """One checkbox per process version (none when the data name fewer than two), and the note."""
        sel = self.selection
        options = list(sel.version_options) if len(sel.version_options) > 1 else []
        if [v for _l, v in options] != list(self.version_boxes) or any(
                box.description != label for (label, _v), box in zip(options, self.version_boxes.values())):
            self.version_boxes = {v: w.Checkbox(description=label, indent=False, layout=w.Layout(width="150px"))
                                  for label, v in options}
            for box in self.version_boxes.values():
                box.observe(self._on_version_box, names="value")
            self.version_row.children = ([w.HTML("<b>Process versions:</b>&nbsp;"), *self.version_boxes.values()]
                                         if options else [])
        self._syncing = True
        try:
            for v, box in self.version_boxes.items():
                box.value = v in sel.process_versions
        finally:
            self._syncing = False
        note = sel.versions_note
        level = "warning" if len(sel.process_versions) > 1 else "info"
        self.version_note.value = f"<div class='cgt-msg cgt-msg-{level}'>{html.escape(note)}</div>" if note else ""

    def _on_version_box(self, change: dict[str, Any]) -> None:
        if getattr(self, "_syncing", False):
            return
        chosen = [v for v, box in self.version_boxes.items() if box.value]
        if not chosen:
            change["owner"].value = True
            self.status.show("error", "Select at least one process version to set the criteria from.")
            return
        with self.status.guard():
            self.selection.choose_versions(chosen)

    def _on_box(self, change: dict[str, Any]) -> None:
        chosen = [t for t, box in self.lot_boxes.items() if box.value]
        if chosen == list(self.selection.lot_types):
            return
        if not chosen:
            change["owner"].value = True
            self.status.show("error", "Select at least one lot type to set the criteria from.")
            return
        with self.status.guard():
            self.selection.lot_types = chosen

    def _on_lot_types(self, change: dict[str, Any]) -> None:
        for t, box in self.lot_boxes.items():
            if box.value != (t in change["new"]):
                box.value = t in change["new"]


class SelectionPageModel(Quietly, HasTraits):
    """Base of a page model built on a :class:`LotSelection`: every change recomputes :attr:`result`.

    A subclass sets ``self.selection`` and implements :meth:`compute`. A selection
    the data cannot support sets :attr:`problem` and keeps the previous result, so
    the page keeps showing the last valid tables and figures.
    """

    result = AnyTrait(None, allow_none=True, read_only=True)
    problem = Unicode("", read_only=True, help="Why the current choices give no result; '' when they do.")
    selection: LotSelection

    def compute(self) -> Any:
        raise NotImplementedError

    def _accept(self, result: Any) -> None:
        """Hook: update traits that follow the result (called with notifications held)."""

    def recompute(self, _change: Any = None) -> None:
        """Derive :attr:`result`; on a data problem keep the previous one and say why."""
        if self._busy:  # quietly(): restored() recomputes once
            return
        try:
            result = self.compute()
        except CgtkitError as exc:
            previous = self.result
            kept = (f" The tables and figures below still show the previous selection "
                    f"({previous.data.spec.label}, {previous.data.n} lots)." if previous else "")
            self.set_trait("problem", f"{exc}{kept}")
            return
        with self.hold_trait_notifications():
            self.set_trait("problem", "")
            self._accept(result)
            self.set_trait("result", result)

    def use_session(self, session: Session) -> None:
        """Follow a changed workbook (data sets added, replaced or removed)."""
        self.selection.use_session(session)

    # -- the page's own inputs, kept beside the workbook (cgtkit.ui.page_inputs) -------------
    INPUTS: ClassVar[tuple[str, ...]] = ()

    def restored(self, _names: set[str]) -> None:
        self.recompute()

    def require_current(self) -> None:
        """Refuse to record a decision while the results on screen belong to an earlier selection."""
        if self.problem:
            raise InsufficientDataError(
                "The results on screen are for the previous selection, so they cannot be recorded for the "
                "current one: fix the message above first, or go back to a selection that gives results.")
