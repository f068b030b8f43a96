"""Versions and code systems of the CDISC exports: SDTMIG 3.3, SDTM Controlled Terminology, ODM 1.3.2.

Sources: SDTM v1.7 and SDTMIG v3.3 (CDISC, 2018-11-20); SDTM Controlled Terminology as published by
NCI EVS (https://evs.nci.nih.gov/ftp1/CDISC/SDTM/), package 2024-09-27; CDISC ODM 1.3.2 (2013-12-01).

**Nothing here was checked against the CT package file**: it could not be downloaded where this was
written. A :class:`Term` says how far to trust a value. ``ct`` values are submission values in wide use
for that codelist, written from knowledge of the standard (the NCI C-code is given only where it was
known with confidence); ``sponsor`` values are alscell's own, where CT has no codelist for the
variable or no term we could name. Check every ``ct`` value against the package before a submission.
MedDRA is not applied: AEDECOD repeats the reported term (docs/cdisc.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from alscell.domain.adverse_events import Causality

__all__ = [
    "AE_OUTCOME",
    "AE_RELATION",
    "ALSFRS_TESTS",
    "ALSFRS_TOTAL",
    "CT_VERSION",
    "DS_TERMS",
    "EVALUATOR",
    "LB_TESTS",
    "LB_UNITS",
    "NY",
    "ODM_VERSION",
    "RE_TESTS",
    "ROUTES",
    "SDTMIG_VERSION",
    "SDTM_VERSION",
    "SERIOUSNESS_FLAGS",
    "SEX",
    "VS_TESTS",
    "Term",
    "TestCode",
]

SDTM_VERSION: Final = "1.7"
SDTMIG_VERSION: Final = "3.3"
CT_VERSION: Final = "SDTM CT 2024-09-27"
ODM_VERSION: Final = "1.3.2"

Trust = Literal["ct", "sponsor"]


@dataclass(frozen=True, slots=True)
class Term:
    """A submission value, its codelist, the NCI C-code when known, and how far to trust it."""

    value: str
    codelist: str
    trust: Trust = "ct"
    code: str | None = None


@dataclass(frozen=True, slots=True)
class TestCode:
    """A findings test: short name (≤ 8), name (≤ 40), category and standard unit."""

    testcd: str
    test: str
    category: str | None = None
    unit: str | None = None


SEX: Final = {
    "female": Term("F", "SEX (C66731)", code="C16576"),
    "male": Term("M", "SEX (C66731)", code="C20197"),
    None: Term("U", "SEX (C66731)", code="C17998"),
}
"""alscell's sex to DM.SEX; any other value is U (unknown)."""

NY: Final = {
    True: Term("Y", "NY (C66742)", code="C49488"),
    False: Term("N", "NY (C66742)", code="C49487"),
}

ROUTES: Final = {
    "lumbar_puncture_implantation": Term("INTRATHECAL", "ROUTE (C66729)", code="C38277"),
    "intraspinal_implantation": Term("INTRASPINAL", "ROUTE (C66729)"),
    "intramuscular_implantation": Term("INTRAMUSCULAR", "ROUTE (C66729)", code="C28161"),
    "iv_infusion": Term("INTRAVENOUS", "ROUTE (C66729)", code="C38276"),
    "infusion": Term("INTRAVENOUS", "ROUTE (C66729)", code="C38276"),
}
"""Administration kind to EXROUTE; kinds not listed (medication) have no route recorded."""

ALSFRS_TESTS: Final = {
    "q1": TestCode("ALSFR01", "ALSFRS-R Item 1 Speech"),
    "q2": TestCode("ALSFR02", "ALSFRS-R Item 2 Salivation"),
    "q3": TestCode("ALSFR03", "ALSFRS-R Item 3 Swallowing"),
    "q4": TestCode("ALSFR04", "ALSFRS-R Item 4 Handwriting"),
    "q5a": TestCode("ALSFR05A", "ALSFRS-R 5a Cutting Food, No Gastrostomy"),
    "q5b": TestCode("ALSFR05B", "ALSFRS-R 5b Cutting Food, Gastrostomy"),
    "q6": TestCode("ALSFR06", "ALSFRS-R Item 6 Dressing and Hygiene"),
    "q7": TestCode("ALSFR07", "ALSFRS-R Item 7 Turning in Bed"),
    "q8": TestCode("ALSFR08", "ALSFRS-R Item 8 Walking"),
    "q9": TestCode("ALSFR09", "ALSFRS-R Item 9 Climbing Stairs"),
    "q10": TestCode("ALSFR10", "ALSFRS-R Item 10 Dyspnea"),
    "q11": TestCode("ALSFR11", "ALSFRS-R Item 11 Orthopnea"),
    "q12": TestCode("ALSFR12", "ALSFRS-R Item 12 Resp. Insufficiency"),
}
"""Sponsor-defined QS test codes (QSCAT "ALSFRS-R"): CDISC QRS codes for ALSFRS-R were not checked."""

ALSFRS_TOTAL: Final = TestCode("ALSFRTOT", "ALSFRS-R Total Score")

EVALUATOR: Final = {
    "clinician": Term("INVESTIGATOR", "EVAL (C78735)"),
    "self": Term("STUDY SUBJECT", "EVAL (C78735)"),
}

RE_TESTS: Final = {
    "fvc": TestCode("FVC", "Forced Vital Capacity", unit="%"),
    "svc": TestCode("SVC", "Slow Vital Capacity", unit="%"),
}
"""Vital capacity as percent of predicted: the unit says so (a separate %-predicted code not checked)."""

VS_TESTS: Final = {
    "systolic_mmhg": TestCode("SYSBP", "Systolic Blood Pressure", unit="mmHg"),
    "diastolic_mmhg": TestCode("DIABP", "Diastolic Blood Pressure", unit="mmHg"),
    "heart_rate_bpm": TestCode("PULSE", "Pulse Rate", unit="beats/min"),
    "temperature_c": TestCode("TEMP", "Temperature", unit="C"),
    "spo2_percent": TestCode("OXYSAT", "Oxygen Saturation", unit="%"),
    "weight_kg": TestCode("WEIGHT", "Weight", unit="kg"),
}
"""VSTESTCD (C66741) / VSTEST (C67153) and UNIT (C71620) values, by alscell field."""

LB_TESTS: Final = {
    "platelets": TestCode("PLAT", "Platelets", "HEMATOLOGY"),
    "hemoglobin": TestCode("HGB", "Hemoglobin", "HEMATOLOGY"),
    "leukocytes": TestCode("WBC", "Leukocytes", "HEMATOLOGY"),
    "inr": TestCode("INR", "Prothrombin Intl. Normalized Ratio", "COAGULATION"),
    "aptt": TestCode("APTT", "Activated Partial Thromboplastin Time", "COAGULATION"),
    "creatinine": TestCode("CREAT", "Creatinine", "CHEMISTRY"),
    "alt": TestCode("ALT", "Alanine Aminotransferase", "CHEMISTRY"),
    "ast": TestCode("AST", "Aspartate Aminotransferase", "CHEMISTRY"),
}
"""LBTESTCD (C65047) / LBTEST (C67154); an analyte not listed keeps its name, upper-cased, as code."""

LB_UNITS: Final[dict[str, str | None]] = {"s": "sec", "ratio": None, "1": None}
"""alscell's lab units that differ in UNIT (C71620), for LBSTRESU; INR has no unit. Others are kept."""

AE_RELATION: Final = {
    Causality.UNRELATED: Term("NOT RELATED", "AEREL", "sponsor"),
    Causality.UNLIKELY: Term("UNLIKELY RELATED", "AEREL", "sponsor"),
    Causality.POSSIBLE: Term("POSSIBLY RELATED", "AEREL", "sponsor"),
    Causality.PROBABLE: Term("PROBABLY RELATED", "AEREL", "sponsor"),
    Causality.DEFINITE: Term("RELATED", "AEREL", "sponsor"),
}
"""AEREL has no CT codelist in SDTMIG 3.3: these five values are the sponsor's scale."""

AE_OUTCOME: Final = {
    "resolved": Term("RECOVERED/RESOLVED", "OUT (C66768)"),
    "ongoing": Term("NOT RECOVERED/NOT RESOLVED", "OUT (C66768)"),
    "fatal": Term("FATAL", "OUT (C66768)"),
}

SERIOUSNESS_FLAGS: Final = {
    "death": "AESDTH",
    "life_threatening": "AESLIFE",
    "hospitalization": "AESHOSP",
    "hospitalisation": "AESHOSP",  # older records spell it the British way
    "disability": "AESDISAB",
    "congenital_anomaly": "AESCONG",
    "other_important": "AESMIE",
}
"""alscell's seriousness criteria (ICH E2A, services.safety.SERIOUSNESS) to AE flag variables."""

_MILESTONE, _DISPOSITION = "PROTOCOL MILESTONE", "DISPOSITION EVENT"
DS_TERMS: Final = {
    "consent": (Term("INFORMED CONSENT OBTAINED", "PROTMLST"), _MILESTONE),
    "consent_withdrawn": (Term("CONSENT WITHDRAWN", "DSDECOD", "sponsor"), "OTHER EVENT"),
    "eligible": (Term("ELIGIBILITY CRITERIA MET", "PROTMLST"), _MILESTONE),
    "screen_failure": (Term("SCREEN FAILURE", "NCOMPLT (C66727)"), _DISPOSITION),
    "enrolled": (Term("ENROLLED", "PROTMLST", "sponsor"), _MILESTONE),
    "completed": (Term("COMPLETED", "NCOMPLT (C66727)"), _DISPOSITION),
    "withdrawn": (Term("WITHDRAWAL BY SUBJECT", "NCOMPLT (C66727)"), _DISPOSITION),
    "lost_to_follow_up": (Term("LOST TO FOLLOW-UP", "NCOMPLT (C66727)"), _DISPOSITION),
    "died": (Term("DEATH", "NCOMPLT (C66727)"), _DISPOSITION),
}
"""Disposition facts to (DSDECOD, DSCAT); DSCAT values are from DSCAT (C74558)."""
