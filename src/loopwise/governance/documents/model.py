"""The document model every generated document is built into and every renderer reads:
sections of fields, each field a value with the link to the record it came from, or
MISSING with what would fill it; tables whose cells link the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DocumentKind(StrEnum):
    MODEL_CARD = "model-card"
    DATASHEET = "datasheet"
    ANNEX_IV = "annex-iv"
    IMPACT_ASSESSMENT = "impact-assessment"
    RISK_REGISTER = "risk-register"

    @property
    def label(self) -> str:
        return TITLES[self]


TITLES = {
    DocumentKind.MODEL_CARD: "Model card",
    DocumentKind.DATASHEET: "Datasheet",
    DocumentKind.ANNEX_IV: "Technical documentation (EU AI Act Annex IV)",
    DocumentKind.IMPACT_ASSESSMENT: "Impact assessment",
    DocumentKind.RISK_REGISTER: "Risk register",
}


class DocumentFormat(StrEnum):
    MD = "md"
    HTML = "html"
    PDF = "pdf"
    JSON = "json"  # the document model; for a model card, Model Card Toolkit JSON
    YAML = "yaml"  # model card only: a Hugging Face model-index block


@dataclass(frozen=True)
class Field:
    """One entry of a section: ``value`` with the ``link`` of its source record, or MISSING
    (``value`` None) with ``missing``, what in the record would fill it."""

    label: str
    value: str | None
    link: str | None = None
    missing: str = ""

    @property
    def is_missing(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Cell:
    text: str
    link: str | None = None


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    empty: str = "none recorded"  # said instead of an empty table


@dataclass(frozen=True)
class Section:
    key: str  # stable: intended_use, annex_iv_2
    title: str
    fields: tuple[Field, ...] = ()
    tables: tuple[Table, ...] = ()
    note: str = ""  # a sentence under the title: what the section is for

    @property
    def missing(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_missing)


@dataclass(frozen=True)
class Document:
    kind: DocumentKind
    title: str
    subject: str  # what the document is about: "churn v3", "CHURN"
    project_key: str
    generated_at: datetime
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    @property
    def missing(self) -> tuple[tuple[str, Field], ...]:
        """Every MISSING field with the title of its section."""
        return tuple((s.title, f) for s in self.sections for f in s.missing)


def value(label: str, text: object, link: str | None = None) -> Field:
    return Field(label, str(text), link)


def missing(label: str, what: str) -> Field:
    return Field(label, None, None, what)


def maybe(label: str, text: object, link: str | None, what: str) -> Field:
    """A value when the record holds one (not None, not empty), else MISSING."""
    if text is None or text == "" or text == () or text == []:
        return missing(label, what)
    return value(label, text, link)
