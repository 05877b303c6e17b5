"""Where a protocol value came from.

Every value in a protocol is one of: stated in the public registry record, taken from
the literature (with a URL), or assumed (not public; ours to configure, with a note
of what the assumption rests on). Assumed values are shown as such wherever users see
them; nothing assumed may pass for the trial's fact.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Source = Literal["registry", "literature", "assumed"]


class Frozen(BaseModel):
    """Base for every protocol model: immutable, and unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Provenance(Frozen):
    """The source of a value. Written in YAML as `registry`, or as a mapping."""

    source: Source
    url: str | None = None
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"source": data}
        return data

    @model_validator(mode="after")
    def _explained(self) -> Provenance:
        if self.source == "literature" and not self.url:
            raise ValueError("a 'literature' provenance needs a 'url' naming the source")
        if self.source == "assumed" and not self.note:
            raise ValueError(
                "an 'assumed' provenance needs a 'note' saying what the assumption is based on"
            )
        return self

    @property
    def is_assumed(self) -> bool:
        return self.source == "assumed"

    def label(self) -> str:
        """A short human label, e.g. 'assumed: COG convention'."""
        detail = self.note or self.url or ""
        return f"{self.source}: {detail}" if detail else self.source


class Sourced(Frozen):
    """A protocol object whose values share one provenance, with per-field exceptions.

    `provenance` applies to every field of the object; `field_provenance` overrides it
    for named fields (for example, a registry fact whose unit is assumed).
    """

    provenance: Provenance
    field_provenance: dict[str, Provenance] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_override_fields(self) -> Sourced:
        own = set(type(self).model_fields) - {"provenance", "field_provenance"}
        unknown = sorted(set(self.field_provenance) - own)
        if unknown:
            raise ValueError(
                f"field_provenance names unknown field(s) {', '.join(unknown)}; "
                f"expected one of: {', '.join(sorted(own))}"
            )
        return self

    def provenance_of(self, field: str) -> Provenance:
        """The effective provenance of one field of this object."""
        return self.field_provenance.get(field, self.provenance)
