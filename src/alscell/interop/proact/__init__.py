"""PRO-ACT (Pooled Resource Open-Access ALS Clinical Trials) table format: writers for synthetic
cohorts, row mappings and a reader that imports a directory of PRO-ACT tables as a comparator cohort."""

from alscell.interop.proact.mapping import (
    from_alsfrs_row,
    from_death_row,
    from_demographics_row,
    from_fvc_row,
    from_history_row,
)
from alscell.interop.proact.tables import PROACT_TABLES, items_from_totals
from alscell.interop.proact.transfer import ImportSummary, ProactReader

__all__ = [
    "PROACT_TABLES",
    "ImportSummary",
    "ProactReader",
    "from_alsfrs_row",
    "from_death_row",
    "from_demographics_row",
    "from_fvc_row",
    "from_history_row",
    "items_from_totals",
]
