"""Everything PainPath holds about one patient, as plain rows (pure).

The repository reads the tables into a :class:`PatientData` (one ``dict`` per row,
keyed by the model's column names, values as Python types: ``uuid.UUID``, ``date``,
``datetime`` in UTC, ``Decimal``); the FHIR mapping turns it into a Bundle and back.
No database, web or clock here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]


@dataclass
class PatientData:
    patient: Row
    clinicians: list[Row] = field(default_factory=list)  # id, user_id, name, kind
    episodes: list[Row] = field(default_factory=list)
    prescriptions: list[Row] = field(default_factory=list)  # each with "steps": [Row]
    taper_plans: list[Row] = field(default_factory=list)
    dose_events: list[Row] = field(default_factory=list)
    other_medicines: list[Row] = field(default_factory=list)
    diary: list[Row] = field(default_factory=list)
    therapy_sessions: list[Row] = field(default_factory=list)
    questionnaires: list[Row] = field(default_factory=list)
    side_effects: list[Row] = field(default_factory=list)
    follow_ups: list[Row] = field(default_factory=list)
    care_plan: Row | None = None
    reviews: list[Row] = field(default_factory=list)
    blood_pressure: list[Row] = field(default_factory=list)
    alerts: list[Row] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many rows of each kind (for messages and tests)."""
        return {
            "patient": 1,
            "clinicians": len(self.clinicians),
            "episodes": len(self.episodes),
            "prescriptions": len(self.prescriptions),
            "taper_plans": len(self.taper_plans),
            "dose_events": len(self.dose_events),
            "other_medicines": len(self.other_medicines),
            "diary": len(self.diary),
            "therapy_sessions": len(self.therapy_sessions),
            "questionnaires": len(self.questionnaires),
            "side_effects": len(self.side_effects),
            "follow_ups": len(self.follow_ups),
            "care_plan": 0 if self.care_plan is None else 1,
            "reviews": len(self.reviews),
            "blood_pressure": len(self.blood_pressure),
            "alerts": len(self.alerts),
        }
