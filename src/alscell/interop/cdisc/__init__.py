"""CDISC exports: SDTM datasets (SDTMIG 3.3, CSV and SAS transport v5) and ODM 1.3.2 XML.

``to_sdtm`` and ``to_odm`` are pure mappings of a :class:`~alscell.domain.dataset.ClinicalDataset`;
``write_sdtm`` and ``write_odm`` write their files. Versions followed are in ``codes``; what is and is
not done is in docs/cdisc.md.
"""

from alscell.interop.cdisc.codes import CT_VERSION, ODM_VERSION, SDTMIG_VERSION
from alscell.interop.cdisc.odm import to_odm
from alscell.interop.cdisc.sdtm import to_sdtm
from alscell.interop.cdisc.transfer import write_odm, write_sdtm

__all__ = [
    "CT_VERSION",
    "ODM_VERSION",
    "SDTMIG_VERSION",
    "to_odm",
    "to_sdtm",
    "write_odm",
    "write_sdtm",
]
