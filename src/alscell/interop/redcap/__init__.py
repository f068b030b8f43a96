"""REDCap data dictionaries, record exports and field mappings, as files (docs/redcap.md)."""

from alscell.interop.redcap.transfer import read_redcap, write_redcap

__all__ = ["read_redcap", "write_redcap"]
