"""Every area's models, imported together so the metadata is complete (Alembic, tests)."""

from painpath.alerts.models import Alert
from painpath.audit.models import AuditEvent
from painpath.auth.models import ThrottleEvent, User, UserSession
from painpath.care.models import (
    BloodPressureReading,
    CareEpisode,
    CarePlan,
    CareTeamMember,
    ClinicalNote,
    Clinician,
    Consent,
    FollowUp,
    Invitation,
    Notification,
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
    TaperPlanRevision,
)
from painpath.questionnaires.models import QuestionnaireResponse
from painpath.reminders.models import Reminder, ReminderPreference

__all__ = [
    "Alert",
    "AuditEvent",
    "Base",
    "BloodPressureReading",
    "CareEpisode",
    "CarePlan",
    "CareTeamMember",
    "ClinicalNote",
    "Clinician",
    "Consent",
    "DiaryEntry",
    "DoseChangeRequest",
    "DoseEvent",
    "DoseStep",
    "FollowUp",
    "Invitation",
    "Notification",
    "OtherMedicine",
    "Patient",
    "Prescription",
    "QuestionnaireResponse",
    "Referral",
    "Reminder",
    "ReminderPreference",
    "Review",
    "SideEffectReport",
    "TaperPlan",
    "TaperPlanRevision",
    "TherapySession",
    "ThrottleEvent",
    "User",
    "UserSession",
]
