"""The outcome evaluation of a protocol version, as the same object the command line prints."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from alscell import __version__
from alscell.domain.access import Action
from alscell.domain.evaluation import DEFAULT_DRAWS, as_data
from alscell.services.evaluation import DEFAULT_SEED, evaluate_program
from alscell.web.deps import (
    CurrentUser,
    NaturalHistoryDep,
    SafetyReferenceDep,
    SessionDep,
    TodayDep,
)
from alscell.web.schemas import IsoDate, action

router = APIRouter(prefix="/evaluations", tags=["evaluation"])


@router.get("/{protocol_id}", openapi_extra=action(Action.RUN_EVALUATION))
def get_evaluation(
    protocol_id: int, user: CurrentUser, session: SessionDep, today: TodayDep, model: NaturalHistoryDep,
    reference: SafetyReferenceDep,
    as_of: Annotated[IsoDate | None, Query(description="Data cut-off (default: today at the clinic).")] = None,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = DEFAULT_SEED,
    draws: Annotated[int, Query(ge=100, le=20_000)] = DEFAULT_DRAWS,
) -> dict[str, Any]:  # fmt: skip
    """Every patient of the protocol version the user may see against natural history, the cohort, and
    the statement of what the design can and cannot show (see docs/evaluation.md)."""
    cutoff: date = as_of or today
    evaluation = evaluate_program(session, protocol_id=protocol_id, by=user, today=cutoff, model=model,
                                  safety_reference=reference, seed=seed, draws=draws)  # fmt: skip
    data = as_data(evaluation)
    assert isinstance(data, dict)
    return {"software_version": __version__, **data}
