"""Two clinicians change the same taper plan at the same moment, on real concurrent
connections: for each version exactly one change wins, the other is told (412), and every
accepted version is kept as a revision."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from painpath.auth.domain import Role
from painpath.kit.errors import PreconditionFailed
from painpath.kit.records import Ctx, etag
from painpath.medication import service
from painpath.medication.models import TaperPlanRevision
from painpath.medication.schemas import (
    PrescriptionCreate,
    ScheduleStepIn,
    TaperPlanCreate,
    TaperPlanUpdate,
)
from tests.conftest import Database
from tests.factories import in_care_team, person, signed_in_clinician

ROUNDS = 8


def test_racing_clinicians_never_lose_a_taper_change(migrated_db: Database) -> None:
    factory = sessionmaker(bind=migrated_db.engine, expire_on_commit=False)
    with factory() as db:
        patient = person(db, Role.PATIENT, "Race Patient")
        gp = person(db, Role.CLINICIAN, "Dr Race One")
        specialist = person(db, Role.CLINICIAN, "Dr Race Two", kind="pain-specialist")
        in_care_team(db, patient, gp)
        in_care_team(db, patient, specialist, role="pain-specialist")
        # Both signed in just now: their sessions pass the step-up check for taper changes.
        clinicians = [
            signed_in_clinician(db, gp, "Dr Race One"),
            signed_in_clinician(db, specialist, "Dr Race Two"),
        ]
        db.commit()
    assert patient.patient_id
    pid = patient.patient_id
    now = datetime.now(UTC)
    today = now.date()
    with factory() as db:
        rx, _ = service.create_prescription(
            db,
            clinicians[0],
            Ctx(now=now),
            pid,
            PrescriptionCreate(
                id=uuid.uuid4(),
                medicine="duloxetine",
                schedule=[
                    ScheduleStepIn(start=today - timedelta(days=40), daily_dose_mg=Decimal(60))
                ],
            ),
        )
        plan, _ = service.create_taper_plan(
            db,
            clinicians[0],
            Ctx(now=now),
            pid,
            TaperPlanCreate(
                id=uuid.uuid4(), prescription_id=rx.id, start=today + timedelta(days=2), weeks=4
            ),
        )
        db.commit()
    first_step = plan.steps[0].start
    accepted: list[tuple[int, int]] = []
    refused: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)
    lock = threading.Lock()

    def clinician(index: int) -> None:
        try:
            for round_ in range(ROUNDS):
                with factory() as db:
                    seen = service.get_taper_plan(
                        db, clinicians[index], Ctx(now=datetime.now(UTC)), pid, plan.id
                    )
                    db.commit()
                barrier.wait(timeout=60)
                db = factory()
                try:
                    done = service.update_taper_plan(
                        db,
                        clinicians[index],
                        Ctx(now=datetime.now(UTC)),
                        pid,
                        plan.id,
                        TaperPlanUpdate(
                            action="hold",
                            on=first_step,
                            reason=f"clinician {index} round {round_}",
                            days=1,
                        ),
                        etag(seen.id, seen.version),
                    )
                    db.commit()
                    with lock:
                        accepted.append((index, done.version))
                except PreconditionFailed:
                    db.rollback()
                    with lock:
                        refused.append(index)
                finally:
                    db.close()
                barrier.wait(timeout=60)
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=clinician, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(accepted) == ROUNDS and len(refused) == ROUNDS
    assert sorted(v for _, v in accepted) == list(range(2, ROUNDS + 2))
    with factory() as db:
        revisions = db.scalars(
            select(TaperPlanRevision)
            .where(TaperPlanRevision.taper_plan_id == plan.id)
            .order_by(TaperPlanRevision.version)
        ).all()
        final = service.get_taper_plan(db, clinicians[0], Ctx(now=datetime.now(UTC)), pid, plan.id)
        db.commit()
    assert [r.version for r in revisions] == list(range(1, ROUNDS + 2))
    assert final.version == ROUNDS + 1
    # Every accepted hold is in the plan: the first step grew by one day per accepted change.
    assert final.steps[0].end == plan.steps[0].end + timedelta(days=ROUNDS)
