"""``GET /api/v1/evaluations/{protocol_id}``: the evaluation as JSON, for those who may run it."""

from __future__ import annotations

from collections.abc import Callable

from alscell.domain.access import Role
from tests.services.test_evaluation import Cohort, cohort  # noqa: F401 - the five-patient cohort fixture
from tests.web.conftest import Caller


def test_a_physician_reads_the_evaluation_of_their_sites_patients(
    cohort: Cohort,  # noqa: F811
    caller: Callable[..., Caller],
) -> None:
    physician = caller(Role.PHYSICIAN, cohort.c.site)

    response = physician.get(
        f"/api/v1/evaluations/{cohort.c.protocol.id}", params={"as_of": "2026-08-15", "draws": 200}
    )

    assert response.status_code == 200, response.text
    data = response.json()
    assert [(p["study_code"], p["category"]) for p in data["patients"]] == [
        ("AMS-001", "worsened"), ("AMS-002", "stable"), ("AMS-003", "improved"), ("AMS-004", "died"),
        ("AMS-005", "missing"),
    ]  # fmt: skip
    assert data["cohort"]["counts"] == {"improved": 1, "stable": 1, "worsened": 1, "died": 1, "missing": 1,
                                        "pending": 0}  # fmt: skip
    assert (data["data_cutoff"], data["draws"]) == ("2026-08-15", 200)
    assert "A single-arm series cannot show whether the treatment works" in data["statement"][0]


def test_a_nurse_may_not_run_an_evaluation(
    cohort: Cohort,  # noqa: F811
    caller: Callable[..., Caller],
) -> None:
    nurse = caller(Role.NURSE, cohort.c.site)

    response = nurse.get(f"/api/v1/evaluations/{cohort.c.protocol.id}")

    assert response.status_code == 403


def test_too_few_draws_and_a_bad_date_are_named(
    cohort: Cohort,  # noqa: F811
    caller: Callable[..., Caller],
) -> None:
    analyst = caller(Role.ANALYST)

    response = analyst.get(
        f"/api/v1/evaluations/{cohort.c.protocol.id}", params={"draws": 5, "as_of": "15/08/2026"}
    )

    assert response.status_code == 422
    text = response.text
    assert "draws" in text
    assert "as_of" in text
