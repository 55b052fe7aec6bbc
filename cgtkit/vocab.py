"""cgtkit's shared vocabulary, defined once: lot types, scales, limit sides, stages.

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


class DatasetKind(StrEnum):
    """What a data set in the workbook holds."""

    LOTS = "lots"
    STABILITY = "stability"
