"""PRO-ACT (Pooled Resource Open-Access ALS Clinical Trials) table format: writers for synthetic cohorts."""

from alscell.interop.proact.tables import PROACT_TABLES, items_from_totals

__all__ = ["PROACT_TABLES", "items_from_totals"]
