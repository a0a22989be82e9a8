"""The "does it help?" result and the evidence view as clients read them.

The first fields of :class:`ResponseRead` are exactly those of ``painpath response
analyze`` (CONTRACT.md); the rest add the course, the inputs the analysis was given,
the other measures and the chart.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["substantial", "moderate", "minimal", "worse", "insufficient-data"]


class CaveatRead(BaseModel):
    code: str
    message: str


class WindowRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    first: str = Field(alias="from", description="first day (YYYY-MM-DD), included")
    to: str = Field(description="last day (YYYY-MM-DD), included")
    days: int
    diary_days: int


class WindowsRead(BaseModel):
    baseline: WindowRead | None
    treatment: WindowRead | None


class ReviewPointResultRead(BaseModel):
    """The result at one planned review point: the 14 days up to it against the baseline."""

    assess_from: str = Field(alias="from")
    assess_to: str = Field(alias="to")
    diary_days: int
    treatment_mean: float | None
    percent_change: float | None
    category: Category
    probability_moderate_or_better: float | None


class ReviewPointRead(BaseModel):
    weeks: int
    date: str
    reached: bool = Field(description="the review point's date has passed (or is today)")
    result: ReviewPointResultRead | None = Field(
        default=None, description="the result at this review point, once it is reached"
    )


class UncertaintyRead(BaseModel):
    rho: float
    rho_observed: float | None
    lag_pairs: int
    sigma: float
    degrees_of_freedom: float
    n_eff_baseline: float
    n_eff_treatment: float


class SummariesRead(BaseModel):
    patient: str
    clinician: str
    beside_the_trials: str


class CourseRead(BaseModel):
    prescription_id: str
    medicine: str
    status: str
    off_label: bool
    start: str | None
    target_dose_reached: str | None
    target_dose_mg: int | str | None
    end: str | None


class CoInterventionRead(BaseModel):
    kind: str
    started: str


class InputsRead(BaseModel):
    diary_days: int
    dose_days_recorded: int
    co_interventions: list[CoInterventionRead]
    dose_changes: list[str]


class ScoreAt(BaseModel):
    date: str
    score: float | None


class ComparisonRead(BaseModel):
    baseline: float
    current: float
    change: float
    percent_change: float | None
    direction: Literal["better", "worse", "same"]
    crosses_mic: bool | None
    improved_beyond_mic: bool | None
    worsened_beyond_mic: bool | None


class MicRead(BaseModel):
    points: float | None
    percent: float | None
    source: str


class MeasureRead(BaseModel):
    instrument: str
    name: str
    what: str
    baseline: ScoreAt | None
    latest: ScoreAt | None
    comparison: ComparisonRead | None
    minimal_important_change: MicRead | None
    words: str


class PgicRead(BaseModel):
    date: str
    answer: str | None
    band: str | None
    much_or_very_much_improved: bool
    source: str


class PatientCaveatRead(BaseModel):
    code: str
    text: str
    details: str


class ChartRead(BaseModel):
    url: str
    alt: str


class ResponseRead(BaseModel):
    """The result of one treatment course."""

    baseline_mean: float | None
    treatment_mean: float | None
    change: float | None
    percent_change: float | None = Field(
        description="(treatment − baseline) / baseline × 100; negative is better"
    )
    category: Category
    probability_moderate_or_better: float | None = Field(
        description="probability that the true reduction in average pain is at least 30%"
    )
    caveats: list[CaveatRead]
    change_label: str
    baseline_days: int
    treatment_days: int
    windows: WindowsRead
    early_response: bool | None
    early_response_percent_change: float | None
    review_points: list[ReviewPointRead]
    review_points_basis: str
    uncertainty_model: UncertaintyRead | None
    summaries: SummariesRead
    sources: list[dict[str, str]]
    course: CourseRead
    headline: str
    today: str
    inputs: InputsRead | None
    other_measures: list[MeasureRead]
    pgic: PgicRead | None
    patient_caveats: list[PatientCaveatRead]
    chart: ChartRead | None


class EvidenceRead(BaseModel):
    """The evidence view: data as published (with labels and citations) and PainPath's
    random-effects pooling of stopping for adverse events."""

    version: int
    bottom_line: list[dict[str, Any]]
    trials: list[dict[str, Any]]
    pooled_analyses: list[dict[str, Any]]
    meta_analyses: list[dict[str, Any]]
    references: list[dict[str, Any]]
    discontinuation_for_adverse_events: dict[str, Any]
    forest_plot: dict[str, Any]
