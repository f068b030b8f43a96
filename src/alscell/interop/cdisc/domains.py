"""The SDTM datasets alscell writes: names, labels and variables in SDTMIG 3.3 order.

Only the variables alscell can fill are listed (plus RACE, ETHNIC and COUNTRY in DM, which are
expected but not collected, and left blank). Labels are the SDTMIG labels, at most 40 characters, as
SAS transport version 5 needs; names are at most 8 characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["DOMAINS", "SUPP_LABELS", "Dataset", "Variable"]


@dataclass(frozen=True, slots=True)
class Variable:
    """One SDTM variable: name, label and whether it is numeric (else character)."""

    name: str
    label: str
    numeric: bool = False


@dataclass(frozen=True, slots=True)
class Dataset:
    """One SDTM dataset: its name, label and variables in order."""

    name: str
    label: str
    variables: tuple[Variable, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Variable names in order."""
        return tuple(variable.name for variable in self.variables)


def _vars(*specs: str) -> tuple[Variable, ...]:
    """Variables from "NAME|Label" strings; a leading "#" marks a numeric variable."""
    built = []
    for spec in specs:
        name, label = spec.split("|")
        built.append(Variable(name.lstrip("#"), label, numeric=name.startswith("#")))
    return tuple(built)


_KEYS = (
    "STUDYID|Study Identifier",
    "DOMAIN|Domain Abbreviation",
    "USUBJID|Unique Subject Identifier",
)


def _findings(prefix: str, *middle: str) -> tuple[Variable, ...]:
    p = prefix
    return _vars(
        *_KEYS, f"#{p}SEQ|Sequence Number", f"{p}TESTCD|Test or Examination Short Name",
        f"{p}TEST|Test or Examination Name", *middle, f"{p}ORRES|Result or Finding in Original Units",
        f"{p}ORRESU|Original Units", f"{p}STRESC|Character Result/Finding in Std Format",
        f"#{p}STRESN|Numeric Result/Finding in Standard Units", f"{p}STRESU|Standard Units",
        f"{p}DTC|Date/Time of Collection", f"#{p}DY|Study Day of Collection",
    )  # fmt: skip


_DATASETS: Final = (
    Dataset("DM", "Demographics", _vars(
        *_KEYS, "SUBJID|Subject Identifier for the Study", "RFSTDTC|Subject Reference Start Date/Time",
        "RFENDTC|Subject Reference End Date/Time", "RFXSTDTC|Date/Time of First Study Treatment",
        "RFXENDTC|Date/Time of Last Study Treatment", "RFICDTC|Date/Time of Informed Consent",
        "RFPENDTC|Date/Time of End of Participation", "DTHDTC|Date/Time of Death",
        "DTHFL|Subject Death Flag", "SITEID|Study Site Identifier", "BRTHDTC|Date/Time of Birth",
        "#AGE|Age", "AGEU|Age Units", "SEX|Sex", "RACE|Race", "ETHNIC|Ethnicity",
        "ARMCD|Planned Arm Code", "ARM|Description of Planned Arm", "ACTARMCD|Actual Arm Code",
        "ACTARM|Description of Actual Arm", "ARMNRS|Reason Arm and/or Actual Arm is Null",
        "COUNTRY|Country",
    )),
    Dataset("AE", "Adverse Events", _vars(
        *_KEYS, "#AESEQ|Sequence Number", "AETERM|Reported Term for the Adverse Event",
        "AEDECOD|Dictionary-Derived Term", "AESER|Serious Event", "AEREL|Causality",
        "AEOUT|Outcome of Adverse Event", "AESCONG|Congenital Anomaly or Birth Defect",
        "AESDISAB|Persist or Signif Disability/Incapacity", "AESDTH|Results in Death",
        "AESHOSP|Requires or Prolongs Hospitalization", "AESLIFE|Is Life Threatening",
        "AESMIE|Other Medically Important Serious Event", "AETOXGR|Standard Toxicity Grade",
        "AESTDTC|Start Date/Time of Adverse Event", "AEENDTC|End Date/Time of Adverse Event",
        "#AESTDY|Study Day of Start of Adverse Event", "#AEENDY|Study Day of End of Adverse Event",
    )),
    Dataset("EX", "Exposure", _vars(
        *_KEYS, "#EXSEQ|Sequence Number", "EXREFID|Reference ID", "EXSPID|Sponsor-Defined Identifier",
        "EXTRT|Name of Treatment", "EXCAT|Category of Treatment", "#EXDOSE|Dose",
        "EXDOSTXT|Dose Description", "EXDOSU|Dose Units", "EXDOSFRM|Dose Form",
        "EXROUTE|Route of Administration", "EXLOT|Lot Number",
        "EXSTDTC|Start Date/Time of Treatment", "EXENDTC|End Date/Time of Treatment",
        "#EXSTDY|Study Day of Start of Treatment", "#EXENDY|Study Day of End of Treatment",
        "EXDUR|Duration of Treatment",
    )),
    Dataset("PR", "Procedures", _vars(
        *_KEYS, "#PRSEQ|Sequence Number", "PRSPID|Sponsor-Defined Identifier",
        "PRTRT|Reported Name of Procedure", "PRCAT|Category", "PRSTDTC|Start Date/Time of Procedure",
        "PRENDTC|End Date/Time of Procedure", "#PRSTDY|Study Day of Start of Procedure",
        "#PRENDY|Study Day of End of Procedure", "PRDUR|Duration of Procedure",
    )),
    Dataset("DS", "Disposition", _vars(
        *_KEYS, "#DSSEQ|Sequence Number", "DSTERM|Reported Term for the Disposition Event",
        "DSDECOD|Standardized Disposition Term", "DSCAT|Category for Disposition Event",
        "DSSTDTC|Start Date/Time of Disposition Event", "#DSSTDY|Study Day of Start of Disposition Event",
    )),
    Dataset("SV", "Subject Visits", _vars(
        *_KEYS, "#VISITNUM|Visit Number", "VISIT|Visit Name", "#VISITDY|Planned Study Day of Visit",
        "SVSTDTC|Start Date/Time of Visit", "SVENDTC|End Date/Time of Visit",
        "#SVSTDY|Study Day of Start of Visit", "#SVENDY|Study Day of End of Visit",
    )),
    Dataset("QS", "Questionnaires", _vars(
        *_KEYS, "#QSSEQ|Sequence Number", "QSTESTCD|Question Short Name", "QSTEST|Question Name",
        "QSCAT|Category of Question", "QSORRES|Finding in Original Units",
        "QSSTRESC|Character Result/Finding in Std Format",
        "#QSSTRESN|Numeric Finding in Standard Units", "QSDRVFL|Derived Flag", "QSEVAL|Evaluator",
        "QSDTC|Date/Time of Finding", "#QSDY|Study Day of Finding",
    )),
    Dataset("RE", "Respiratory System Findings", _findings("RE")),
    Dataset("VS", "Vital Signs", _findings("VS")),
    Dataset("LB", "Laboratory Test Results", _findings("LB", "LBCAT|Category for Lab Test")),
    Dataset("SUPPAE", "Supplemental Qualifiers for AE", _vars(
        "STUDYID|Study Identifier", "RDOMAIN|Related Domain Abbreviation",
        "USUBJID|Unique Subject Identifier", "IDVAR|Identifying Variable",
        "IDVARVAL|Identifying Variable Value", "QNAM|Qualifier Variable Name",
        "QLABEL|Qualifier Variable Label", "QVAL|Data Value", "QORIG|Origin", "QEVAL|Evaluator",
    )),
)  # fmt: skip

DOMAINS: Final = {dataset.name: dataset for dataset in _DATASETS} | {
    "SUPPEX": Dataset("SUPPEX", "Supplemental Qualifiers for EX", _DATASETS[-1].variables)
}
"""Every dataset alscell writes, by name, in the order they are written."""

SUPP_LABELS: Final = {
    "AERELPRC": "Relationship to Study Procedure",
    "AERELDRG": "Relationship to Non-cell Study Drug",
    "AEEXPECT": "Expected per Investigator's Brochure",
    "AEAWARDT": "Date Sponsor Became Aware (Day 0)",
    "EXVOLML": "Volume Administered (mL)",
    "EXOVRRUL": "Safety Checks Overridden",
    "EXOVRRSN": "Reason Safety Checks Were Overridden",
    "EXNOTES": "Administration Notes",
}
"""QLABEL of each supplemental qualifier (QNAM ≤ 8, QLABEL ≤ 40 characters)."""
