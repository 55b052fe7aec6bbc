"""cgtkit's shared vocabulary, defined once: lot types, scales, limit sides, attribute kinds,
development stages and data-set kinds.

Each is a :class:`enum.StrEnum`, so a member equals its string value
(``LotType.PPQ == "ppq"``), reads and writes as that string in JSON and YAML,
and can be used as a pydantic field type. Everything else in cgtkit imports
these names instead of repeating the strings.

>>> LotType("ppq") is LotType.PPQ
True
>>> [t.value for t in LotType]
['engineering', 'clinical', 'ppq', 'commercial']
>>> Scale.LOG.label
'log-normal (analysed on the log scale)'
>>> LimitSide.TWO_SIDED.sided
2
>>> Stage("phase 2").index, STAGES[-1]
(3, 'post-approval')
>>> Stage.PHASE_1_2.value, Stage.PHASE_1_2.clinical, Stage.BLA.clinical
('phase 1/2', True, False)
"""

from __future__ import annotations

from enum import StrEnum


class LotType(StrEnum):
    """Why a lot was made; the specifications pages pick lots by type."""

    ENGINEERING = "engineering"
    CLINICAL = "clinical"
    PPQ = "ppq"
    COMMERCIAL = "commercial"

    @property
    def label(self) -> str:
        return "PPQ" if self is LotType.PPQ else self.value

    @property
    def title(self) -> str:  # type: ignore[override]
        """For a form label: "Engineering", "PPQ"."""
        return "PPQ" if self is LotType.PPQ else self.value.capitalize()


LOT_TYPES: tuple[str, ...] = tuple(t.value for t in LotType)


class Scale(StrEnum):
    """The scale statistics work on: the values themselves, or their natural logarithm."""

    NORMAL = "normal"
    LOG = "log"

    @property
    def label(self) -> str:
        return "normal" if self is Scale.NORMAL else "log-normal (analysed on the log scale)"


class LimitSide(StrEnum):
    """Which side(s) of an attribute carry an acceptance limit."""

    LOWER = "lower"
    UPPER = "upper"
    TWO_SIDED = "two_sided"

    @property
    def sided(self) -> int:
        """1 or 2, as the interval functions of :mod:`cgtkit.stats` take it."""
        return 2 if self is LimitSide.TWO_SIDED else 1


class AttributeKind(StrEnum):
    """Quantitative attributes get statistics; fixed safety requirements never do."""

    QUANTITATIVE = "quantitative"
    SAFETY_FIXED = "safety_fixed"


class Stage(StrEnum):
    """Where a product is in development, in order; the navigator decides by it.

    The seamless designs common in cell and gene therapy have stages of their own
    (``phase 1/2``, ``phase 2/3``), placed between the phases they join. Whether the
    current study is the pivotal one is a separate fact of the product profile: many
    CGT products were licensed on phase 1/2 or phase 2 data.
    """

    PRE_IND = "pre-IND"
    PHASE_1 = "phase 1"
    PHASE_1_2 = "phase 1/2"
    PHASE_2 = "phase 2"
    PHASE_2_3 = "phase 2/3"
    PHASE_3 = "phase 3"
    BLA = "BLA"
    POST_APPROVAL = "post-approval"

    @property
    def index(self) -> int:  # type: ignore[override]
        """Position in development order (pre-IND = 0)."""
        return STAGES.index(self.value)

    @property
    def clinical(self) -> bool:
        """A stage at which clinical studies run under an IND (phase 1 to phase 3)."""
        return Stage.PHASE_1.index <= self.index <= Stage.PHASE_3.index


STAGES: tuple[str, ...] = tuple(s.value for s in Stage)


class DatasetKind(StrEnum):
    """What a data set in the workbook holds."""

    LOTS = "lots"
    STABILITY = "stability"
