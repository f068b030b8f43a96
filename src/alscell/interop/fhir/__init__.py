"""FHIR R4B: the clinical data set as one collection Bundle per patient, and back (docs/fhir.md)."""

from alscell.interop.fhir.mapping import from_bundles, to_bundles
from alscell.interop.fhir.transfer import read_fhir, write_fhir

__all__ = ["from_bundles", "read_fhir", "to_bundles", "write_fhir"]
