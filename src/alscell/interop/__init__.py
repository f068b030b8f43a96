"""Interoperability: PRO-ACT and REDCap imports; FHIR, CDISC and CSV exports, through services."""
