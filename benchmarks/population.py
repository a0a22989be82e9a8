"""The benchmark population: who looks after whom, and how much history each patient has.

- Patients 0, 5, 10, … 9,995 (2,000 of them, spread through the first 10,000 so their
  rows sit among everyone else's) are the caseload of one GP, "Dr Bench".
- Every other patient belongs to one of the other GPs, 2,000 patients each at most.
- Patients referred to a specialist (sciatica, or every third patient, as the
  generator decides) also have one of 20 pain specialists in their team, who then
  prescribes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from painpath.demo import bulk
from painpath.demo.generator import PatientHistory, stable_id

SEED = 11
CASELOAD = 2000
CASELOAD_EVERY = 5
PER_GP = 2000
SPECIALISTS = 20


def clinician(kind: str, number: int) -> bulk.StaffMember:
    cid = stable_id(SEED, "bench-clinician", kind, number)
    uid = stable_id(SEED, "bench-clinician-user", kind, number)
    if kind == "gp" and number == 0:
        return bulk.StaffMember(cid, uid, "bench.gp@painpath.example", "Dr Bench", "gp")
    name = f"Dr {kind.title()} {number}" if kind == "gp" else f"Dr Specialist {number}"
    email = f"bench.{kind}{number}@painpath.example"
    return bulk.StaffMember(cid, uid, email, name, "gp" if kind == "gp" else "pain-specialist")


BENCH_GP = clinician("gp", 0)


def in_caseload(index: int) -> bool:
    return index < CASELOAD * CASELOAD_EVERY and index % CASELOAD_EVERY == 0


def gp_number(index: int) -> int:
    if in_caseload(index):
        return 0
    return 1 + index // PER_GP


def staff(patients: int) -> list[bulk.StaffMember]:
    top = 1 + (patients - 1) // PER_GP
    return [clinician("gp", n) for n in range(top + 1)] + [
        clinician("specialist", n) for n in range(SPECIALISTS)
    ]


@dataclass(frozen=True)
class Teams:
    """Each patient's care team (picklable, for the loader's worker processes)."""

    def __call__(self, h: PatientHistory) -> Sequence[bulk.TeamMember]:
        team = [bulk.TeamMember(clinician("gp", gp_number(h.index)).clinician_id, "gp")]
        if h.referred_to_specialist:
            specialist = clinician("specialist", h.index % SPECIALISTS)
            team.append(bulk.TeamMember(specialist.clinician_id, "pain-specialist"))
        return team


@dataclass(frozen=True)
class Days:
    """History length: a year for the caseload, ``others`` days for everyone else."""

    others: int
    caseload: int = 365

    def __call__(self, index: int) -> int:
        return self.caseload if in_caseload(index) else self.others


def load(
    engine: Engine,
    *,
    first: int,
    count: int,
    days: Days | int,
    today: date,
    now: datetime,
    password_hash: str,
    workers: int,
    progress: bool = True,
) -> bulk.LoadStats:
    from common import log

    def report(stats: bulk.LoadStats) -> None:
        if progress and stats.patients % 5000 < 100:
            log(
                f"  {stats.patients:,} patients, {stats.total_rows:,} rows, "
                f"{stats.rows_per_second:,.0f} rows/s"
            )

    return bulk.load_population(
        engine,
        seed=SEED,
        today=today,
        count=count,
        first=first,
        days=days,
        team=Teams(),
        password_hash=password_hash,
        now=now,
        workers=workers,
        progress=report,
    )


def patient_id(index: int) -> uuid.UUID:
    return stable_id(SEED, "patient", index)


def prescription_id(index: int) -> uuid.UUID:
    return stable_id(SEED, "prescription", index)


def user_id(index: int) -> uuid.UUID:
    return stable_id(SEED, "user", index)
