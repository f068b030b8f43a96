"""QS, RE, VS and LB: ALSFRS-R ratings, vital capacity, vital signs and weight, laboratory results.

QS has one row per ALSFRS-R item (item 5 as 5a or 5b, whichever was scored) and one for the total
(QSDRVFL "Y": it is the sum of the items). Original and standard results are the same numbers: alscell
stores each measure in one unit, so no conversion is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from alscell.domain import alsfrs
from alscell.domain.dataset import AlsfrsRecord, ClinicalDataset, VitalSignsRecord
from alscell.interop.cdisc import codes
from alscell.interop.cdisc.tabulation import Context, Draft, Row, format_number

__all__ = ["lb_drafts", "qs_drafts", "re_drafts", "vs_drafts"]


def _result(prefix: str, value: float, unit: str | None, std_unit: str | None) -> Row:
    text = format_number(value)
    return {
        f"{prefix}ORRES": text, f"{prefix}ORRESU": unit, f"{prefix}STRESC": text,
        f"{prefix}STRESN": value, f"{prefix}STRESU": std_unit,
    }  # fmt: skip


def _test(prefix: str, test: codes.TestCode) -> Row:
    return {f"{prefix}TESTCD": test.testcd, f"{prefix}TEST": test.test}


def _when(prefix: str, study_code: str, on: date | datetime, context: Context) -> Row:
    return {f"{prefix}DTC": context.dtc(on), f"{prefix}DY": context.day(study_code, on)}


def qs_drafts(dataset: ClinicalDataset, context: Context) -> Iterator[Draft]:
    """Twelve item rows and a total row per ALSFRS-R rating, in scale order."""
    for rating in dataset.alsfrs_ratings:
        items = rating.items()
        for item in alsfrs.ITEMS:
            if item.key in items:
                yield _qs_row(rating, codes.ALSFRS_TESTS[item.key], items[item.key], context)
        total = _qs_row(rating, codes.ALSFRS_TOTAL, rating.total, context)
        yield Draft(total.row | {"QSDRVFL": "Y"})


def _qs_row(rating: AlsfrsRecord, test: codes.TestCode, value: int, context: Context) -> Draft:
    evaluator = codes.EVALUATOR.get(rating.form)
    row = (
        context.keys("QS", rating.study_code)
        | _test("QS", test)
        | {
            "QSCAT": "ALSFRS-R",
            "QSORRES": str(value),
            "QSSTRESC": str(value),
            "QSSTRESN": value,
            "QSEVAL": evaluator.value if evaluator is not None else None,
        }
    )
    return Draft(row | _when("QS", rating.study_code, rating.rated_on, context))


def re_drafts(dataset: ClinicalDataset, context: Context) -> Iterator[Draft]:
    """One row per vital capacity, as percent of predicted (RETESTCD FVC or SVC)."""
    for record in dataset.vital_capacities:
        test = codes.RE_TESTS.get(
            record.method, codes.TestCode(record.method.upper()[:8], record.method, unit="%")
        )
        yield Draft(
            context.keys("RE", record.study_code)
            | _test("RE", test)
            | _result("RE", record.percent_predicted, test.unit, test.unit)
            | _when("RE", record.study_code, record.measured_on, context)
        )


def vs_drafts(dataset: ClinicalDataset, context: Context) -> Iterator[Draft]:
    """One row per measured vital sign, and one per weight."""
    for signs in dataset.vital_signs:
        yield from _vital_signs(signs, context)
    for weight in dataset.weights:
        yield _vs_row(weight.study_code, "weight_kg", weight.weight_kg, weight.measured_on, context)


def _vital_signs(signs: VitalSignsRecord, context: Context) -> Iterator[Draft]:
    for field in (
        "systolic_mmhg",
        "diastolic_mmhg",
        "heart_rate_bpm",
        "temperature_c",
        "spo2_percent",
    ):
        value = getattr(signs, field)
        if value is not None:
            yield _vs_row(signs.study_code, field, value, signs.measured_at, context)


def _vs_row(
    study_code: str, field: str, value: float, on: date | datetime, context: Context
) -> Draft:
    test = codes.VS_TESTS[field]
    return Draft(
        context.keys("VS", study_code)
        | _test("VS", test)
        | _result("VS", value, test.unit, test.unit)
        | _when("VS", study_code, on, context)
    )


def lb_drafts(dataset: ClinicalDataset, context: Context) -> Iterator[Draft]:
    """One row per laboratory result; LBSTRESU maps alscell's unit to CT where it differs."""
    for record in dataset.lab_results:
        test = codes.LB_TESTS.get(record.analyte) or codes.TestCode(
            record.analyte.upper()[:8], record.analyte[:40]
        )
        yield Draft(
            context.keys("LB", record.study_code)
            | _test("LB", test)
            | {"LBCAT": test.category}
            | _result("LB", record.value, record.unit, codes.LB_UNITS.get(record.unit, record.unit))
            | _when("LB", record.study_code, record.collected_on, context)
        )
