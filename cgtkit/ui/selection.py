"""The lot selection a specifications page works on, shared by its pages as a sub-model.

:class:`LotSelection` holds the data set, the attribute and the lot types as
traits, with the options each may take; it follows the workbook
(:meth:`LotSelection.use_session`) and keeps choices that still exist.
:class:`LotSelectionControls` are its widgets, linked to those traits. A page
model composes a ``LotSelection`` and observes :attr:`LotSelection.changed`,
which ticks once per change of selection, however many traits moved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import ipywidgets as w
import pandas as pd
from traitlets import Any as AnyTrait
from traitlets import HasTraits, Int, List, Tuple, Unicode, observe

from cgtkit.analyses.specifications import AttributeData, attribute_data
from cgtkit.attributes import AttributeSpec, get_attribute, load_attributes
from cgtkit.errors import CgtkitError, InsufficientDataError
from cgtkit.session import Session
from cgtkit.ui.shell import StatusArea
from cgtkit.vocab import LOT_TYPES, AttributeKind, DatasetKind, LotType


class LotSelection(HasTraits):
    """Data set, attribute and lot types, with their options, for one page."""

    dataset = Unicode("")
    attribute = Unicode("")
    lot_types = List(Unicode())
    dataset_options = List(Unicode(), read_only=True)
    attribute_options = List(Tuple(Unicode(), Unicode()), read_only=True)
    changed = Int(0, read_only=True, help="Ticks once per change of selection.")

    def __init__(self, session: Session, default_lot_types: Sequence[str]) -> None:
        super().__init__()
        self.default_lot_types = [str(LotType(t)) for t in default_lot_types]
        self._frames: dict[str, pd.DataFrame] = {}
        self.session = session
        with self.hold_trait_notifications():
            self.lot_types = list(self.default_lot_types)
            self.use_session(session)

    # -- the workbook ---------------------------------------------------
    def use_session(self, session: Session) -> None:
        """Follow a changed workbook, keeping the data set and attribute if they still exist."""
        self.session = session
        self._frames.clear()
        options = [name for name, ds in session.datasets.items() if ds.kind is DatasetKind.LOTS]
        if not options:
            raise InsufficientDataError("The workbook holds no lot data: load a lot data file on the Home page.")
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
        return attribute_data(self.frame(), get_attribute(attribute or self.attribute), chosen)

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
        try:
            self._update_attributes()
        except Exception:
            self.set_trait("dataset", previous)  # a data set that cannot be read leaves the selection as it was
            raise
        self._tick()

    @observe("attribute", "lot_types")
    def _on_choice(self, _change: dict[str, Any]) -> None:
        self._tick()

    def _tick(self) -> None:
        self.set_trait("changed", self.changed + 1)


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
        self.widget = w.VBox([w.HBox([self.dataset, self.attribute]), lot_row])

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


class SelectionPageModel(HasTraits):
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
