"""Workbooks with real decisions, made by the pages' own models on the example data (for the decision
record's tests and benchmarks/bench_record.py)."""

from __future__ import annotations

from cgtkit.session import Session, WorkbookStore, started


def with_page_decisions(session: Session | None = None) -> Session:
    """The example workbook with the decisions of two module pages: Clinical development "accept all"
    (one set of criteria for every attribute) and a Commercial specifications criterion (viability)."""
    from cgtkit.ui.clinical_development_model import ClinicalDevelopmentModel
    from cgtkit.ui.commercial_specifications_model import CommercialSpecificationsModel

    session = session or started(Session.example(), "a test workbook on the example data.")
    clinical = ClinicalDevelopmentModel(session)
    session = session.with_decision(clinical.all_proposals_decision())
    commercial = CommercialSpecificationsModel(session)
    return session.with_decision(commercial.decision(commercial.default_justification()))


def store_with_decisions(path) -> WorkbookStore:  # noqa: ANN001
    """A workbook file with those decisions, each saved through the store (so each has its log entry)."""
    from cgtkit.ui.clinical_development_model import ClinicalDevelopmentModel
    from cgtkit.ui.commercial_specifications_model import CommercialSpecificationsModel

    store = WorkbookStore(path)
    session = store.load()
    store.update(lambda s: s.with_decision(ClinicalDevelopmentModel(session).all_proposals_decision()))
    model = CommercialSpecificationsModel(store.load())
    store.update(lambda s: s.with_decision(model.decision(model.default_justification())))
    return store


def many_decisions(n_decisions: int = 50, n_datasets: int = 5) -> Session:
    """A workbook with ``n_datasets`` lot data sets (copies of the example lots under other names) and
    ``n_decisions`` decisions: per data set, the Clinical development set of criteria and a Commercial
    specifications criterion per attribute, in turn. On a page a later decision on the same attribute
    replaces the earlier one, so they are put in the workbook side by side (as decisions of several
    products' pages would be), which the record reads like any other."""
    from cgtkit.errors import CgtkitError
    from cgtkit.ui.clinical_development_model import ClinicalDevelopmentModel
    from cgtkit.ui.commercial_specifications_model import CommercialSpecificationsModel

    base = Session.example()
    frame = base.dataset_frame("car_t_lots")
    session = Session(profile=base.profile)
    names = [f"lots_{i + 1}" for i in range(n_datasets)]
    for name in names:
        session = session.with_dataset(name, frame, source=f"example:{name}.csv")
    clinical, commercial = ClinicalDevelopmentModel(session), CommercialSpecificationsModel(session)
    made: list = []
    while len(made) < n_decisions:
        for name in names:
            clinical.selection.dataset = commercial.selection.dataset = name
            made.append(clinical.all_proposals_decision())
            for _label, attribute in commercial.selection.attribute_options:
                commercial.selection.attribute = attribute
                if commercial.result is None or commercial.result.fixed:
                    continue
                try:
                    made.append(commercial.decision(commercial.default_justification()))
                except CgtkitError:  # a candidate at a physical bound cannot be accepted
                    continue
    session = session.model_copy(update={"decisions": tuple(made[:n_decisions])})
    return started(session, "the benchmark's workbook.")
