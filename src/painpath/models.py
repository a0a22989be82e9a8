"""Every area's models, imported together so the metadata is complete (Alembic, tests)."""

from painpath.alerts.models import Alert
from painpath.audit.models import AuditEvent
from painpath.auth.models import User, UserSession
from painpath.care.models import (
    CareEpisode,
    CareTeamMember,
    Clinician,
    FollowUp,
    OtherMedicine,
    Patient,
    Referral,
    Review,
)
from painpath.db import Base
from painpath.diary.models import DiaryEntry, TherapySession
from painpath.medication.models import (
    DoseChangeRequest,
    DoseEvent,
    DoseStep,
    Prescription,
    SideEffectReport,
    TaperPlan,
)
from painpath.questionnaires.models import QuestionnaireResponse

__all__ = [
    "Alert",
    "AuditEvent",
    "Base",
    "CareEpisode",
    "CareTeamMember",
    "Clinician",
    "DiaryEntry",
    "DoseChangeRequest",
    "DoseEvent",
    "DoseStep",
    "FollowUp",
    "OtherMedicine",
    "Patient",
    "Prescription",
    "QuestionnaireResponse",
    "Referral",
    "Review",
    "SideEffectReport",
    "TaperPlan",
    "TherapySession",
    "User",
    "UserSession",
]
