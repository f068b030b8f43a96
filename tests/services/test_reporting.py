"""The program report's data from the records (services/reporting.py).

The five-patient cohort of tests/services/test_evaluation.py (one dose each on day 10, ratings at 6 months
for three, a death for one), plus one patient screened ineligible, one registered and awaiting screening,
and, in one test, a withdrawal.
"""

from __future__ import annotations

from datetime import date

import pytest

from alscell.domain.access import Role
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.report import ProgramReport
from alscell.errors import PermissionDenied
from alscell.services import enrollment, patients
from alscell.services.reporting import program_report
from alscell.storage.models import User
from tests.factories import make_site, make_user
from tests.services.scenario import clear_bedside, eligible_patient, no_exclusions
from tests.services.test_evaluation import AFTER, CODES, Cohort, cohort

__all__ = ["cohort"]


def report_of(
    c: Cohort, *, by: User | None = None, deidentified: bool = False, today: date = AFTER
) -> ProgramReport:
    return program_report(c.c.session, protocol_id=c.c.protocol.id, by=by or c.c.physician, today=today,
                          deidentified=deidentified)  # fmt: skip


@pytest.fixture
def more(cohort: Cohort) -> Cohort:
    """Adds AMS-006, screened ineligible (pregnancy), and AMS-007, registered and never screened."""
    c = cohort.c
    ineligible = eligible_patient(c, code="AMS-006")
    enrollment.screen_patient(c.session, patient_id=ineligible.id, protocol_id=c.protocol.id,
                              screened_on=date(2025, 12, 21), exclusions={**no_exclusions(), "pregnancy": True},
                              pre_puncture=clear_bedside().pre_puncture, by=c.physician,
                              now=c.at(date(2025, 12, 21)))  # fmt: skip
    patients.register_patient(c.session, study_code="AMS-007", site_id=c.site.id, given_name="Sam",
                              family_name="Roe", birth_on=date(1970, 1, 1), sex="male", by=c.coordinator,
                              now=c.at(date(2026, 2, 1)))  # fmt: skip
    return cohort


def test_the_flow_follows_patients_from_referral_to_withdrawal(more):
    c = more.c
    flow = report_of(more).flow

    assert (flow.referred, flow.screened, flow.ineligible, flow.undecided) == (7, 6, 1, 0)
    assert [reason.patients for reason in flow.reasons] == [1]
    assert "pregnancy" in flow.reasons[0].criterion
    assert (flow.enrolled, flow.treated, flow.died, flow.withdrawn, flow.ongoing) == (5, 5, 1, 0, 4)

    patients.close_participation(c.session, patient_id=more.patients["AMS-005"].id, status=PatientStatus.WITHDRAWN,
                                 on=date(2026, 5, 1), reason="moved abroad", by=c.physician,
                                 now=c.at(date(2026, 5, 1)))  # fmt: skip

    assert (report_of(more).flow.withdrawn, report_of(more).flow.ongoing) == (1, 3)
    assert report_of(more, today=date(2026, 4, 30)).flow.withdrawn == 0


def test_an_identified_report_holds_baseline_courses_band_and_provenance(cohort):
    report = report_of(cohort)

    rows = {row.characteristic: row for row in report.baseline}
    assert rows["Patients enrolled"].count == 5
    assert rows["ALSFRS-R total at baseline"].median == 46.0  # every scenario patient is rated 46
    assert rows["Age at enrollment"].median == 61.0  # born 1964-05-17, first dose 2026-01-15
    assert rows["Sex: female"].count == 5
    courses = {t.study_code: t for t in report.trajectories}
    assert set(courses) == set(CODES)
    assert courses["AMS-001"].totals == (46, 42)
    assert courses["AMS-001"].months[0] < 0 < courses["AMS-001"].months[-1]
    assert courses["AMS-001"].treatment_months == 0.0  # one dose
    assert report.band is not None
    assert report.band.patients == 5
    assert report_of(cohort).band == report.band  # seeded
    provenance = report.provenance
    assert provenance.data_cutoff == AFTER
    assert provenance.protocol == f"als-nsc-4lp version {cohort.c.protocol.version}"
    assert provenance.protocol_sha256 == cohort.c.protocol.content_sha256
    assert provenance.plan_version == "1.0"
    assert any(text.startswith("ALSFRS-R") for text in provenance.scale_versions)
    assert provenance.natural_history_model == report.evaluation.model
    assert report.evaluation.statement[0].startswith("This is a single-arm series")
    assert (report.patients[0].name, report.patients[0].birth_on) == (
        "Doe, Alex",
        date(1964, 5, 17),
    )
    assert not report.deidentified


def test_a_deidentified_report_has_no_identity_and_relative_dates(cohort):
    report = report_of(cohort, deidentified=True)

    assert report.deidentified
    assert all(row.name is None and row.birth_on is None for row in report.patients)
    [override] = [
        remark for row in report.patients for remark in row.remarks if "overridden" in remark
    ]
    assert override.startswith("day +0: unit.not_dispensed overridden")
    assert "2026-" not in " ".join(remark for row in report.patients for remark in row.remarks)


def test_who_may_see_what(cohort):
    analyst = make_user(cohort.c.session, Role.ANALYST)
    stranger = make_user(cohort.c.session, Role.PHYSICIAN, site=make_site(cohort.c.session))

    for reader in (analyst, make_user(cohort.c.session, Role.MONITOR)):  # may not view identities
        theirs = report_of(cohort, by=reader)  # not asked for, de-identified all the same
        assert theirs.deidentified
        assert all(row.name is None and row.birth_on is None for row in theirs.patients)
        assert "2026-" not in " ".join(r for row in theirs.patients for r in row.remarks)
    assert not report_of(cohort, by=cohort.c.physician).deidentified
    with pytest.raises(PermissionDenied):
        report_of(cohort, by=cohort.c.nurse)
    report = report_of(cohort, by=stranger)
    assert (report.flow.referred, report.patients, report.trajectories, report.band) == (
        0,
        (),
        (),
        None,
    )
