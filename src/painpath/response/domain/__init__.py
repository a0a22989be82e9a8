"""Pure core of the "does it help?" area: response analysis and meta-analysis."""

from painpath.response.domain.analysis import (
    MINIMAL_IMPORTANT_CHANGES,
    Category,
    Caveat,
    ChangeLabel,
    CoIntervention,
    DateWindow,
    DiaryPoint,
    MinimalImportantChange,
    ResponseResult,
    ScoreComparison,
    analyze_response,
    categorize,
    compare_scores,
    probability_moderate_or_better,
)
from painpath.response.domain.meta import (
    PooledEstimate,
    PoolMethod,
    log_risk_ratio,
    parse_method,
    pool,
)

__all__ = [
    "MINIMAL_IMPORTANT_CHANGES",
    "Category",
    "Caveat",
    "ChangeLabel",
    "CoIntervention",
    "DateWindow",
    "DiaryPoint",
    "MinimalImportantChange",
    "PoolMethod",
    "PooledEstimate",
    "ResponseResult",
    "ScoreComparison",
    "analyze_response",
    "categorize",
    "compare_scores",
    "log_risk_ratio",
    "parse_method",
    "pool",
    "probability_moderate_or_better",
]
