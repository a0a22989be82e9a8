"""Random-effects meta-analysis, computed the way R's metafor ``rma()`` does it.

Model: ``yi = mu + u_i + e_i`` with ``u_i ~ N(0, tau2)`` and ``e_i ~ N(0, vi)``
(``vi`` known). Two estimators of ``tau2``:

* ``DL`` (DerSimonian and Laird 1986): method of moments on Cochran's Q,
  ``tau2 = max(0, (Q - (k - 1)) / (sum(w) - sum(w^2) / sum(w)))`` with ``w = 1/vi``.
* ``REML``: restricted maximum likelihood by Fisher scoring, as in metafor's
  ``rma.uni()``: start from the Hedges (HE) estimate truncated at 0, update with
  ``adj = (Y'PPY - tr(P)) / tr(PP)``, halve the step while it would make ``tau2``
  negative, stop when the change is below 1e-5 (at most 100 iterations), and
  truncate the result at 0.

Then, with ``w* = 1/(vi + tau2)``: ``estimate = sum(w* yi) / sum(w*)``,
``se = sqrt(1 / sum(w*))``, a z-based 95% confidence interval, the prediction
interval ``estimate ± z(0.975) * sqrt(se^2 + tau2)`` (metafor's ``predict()`` with
``test="z"``), and I² as metafor reports it:
``I2 = 100 * tau2 / (tau2 + s2)`` with the "typical" within-study variance
``s2 = (k - 1) * sum(w) / (sum(w)^2 - sum(w^2))``.

Pure functions: no input/output, no randomness.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from painpath.kit.errors import InvalidInput, Problem

REML_THRESHOLD = 1e-5
REML_MAX_ITERATIONS = 100
Z_975 = float(stats.norm.ppf(0.975))


class PoolMethod(StrEnum):
    """How the between-study variance ``tau2`` is estimated."""

    REML = "REML"
    DL = "DL"


@dataclass(frozen=True)
class PooledEstimate:
    """The result of a random-effects meta-analysis (on the scale of ``yi``)."""

    method: PoolMethod
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    tau2: float
    i2: float
    pi_low: float
    pi_high: float
    k: int
    q: float
    iterations: int

    def to_json(self) -> dict[str, float | int | str]:
        """The fields of the ``evidence pool`` command (CONTRACT.md), plus method and Q."""
        return {
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "tau2": self.tau2,
            "i2": self.i2,
            "pi_low": self.pi_low,
            "pi_high": self.pi_high,
            "k": self.k,
            "method": self.method.value,
            "q": self.q,
        }


def parse_method(value: str) -> PoolMethod:
    """``"reml"``/``"REML"`` → :attr:`PoolMethod.REML`; anything unknown is an error."""
    try:
        return PoolMethod(value.strip().upper())
    except ValueError:
        raise InvalidInput(f"unknown method {value!r}: use REML or DL", field="method") from None


def _validated(
    yi: Sequence[float], vi: Sequence[float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    problems: list[Problem] = []
    if len(yi) != len(vi):
        raise InvalidInput(
            f"yi has {len(yi)} values but vi has {len(vi)}: give one variance per study",
            field="vi",
        )
    if len(yi) < 2:
        raise InvalidInput(f"a meta-analysis needs at least 2 studies; got {len(yi)}", field="yi")
    for i, (y, v) in enumerate(zip(yi, vi, strict=True), start=1):
        if not math.isfinite(y):
            problems.append(Problem(f"yi[{i}]", f"study {i}: effect {y!r} is not a finite number"))
        if not (math.isfinite(v) and v > 0):
            problems.append(
                Problem(f"vi[{i}]", f"study {i}: variance {v!r} must be a finite number above 0")
            )
    if problems:
        raise InvalidInput("the study data cannot be pooled", problems)
    return np.asarray(yi, dtype=np.float64), np.asarray(vi, dtype=np.float64)


def _tau2_dl(y: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    w = 1.0 / v
    mu_fe = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - mu_fe) ** 2))
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return max(0.0, (q - (len(y) - 1)) / c)


def _tau2_reml(y: NDArray[np.float64], v: NDArray[np.float64]) -> tuple[float, int]:
    """Fisher scoring for the REML estimate of ``tau2`` (metafor's algorithm)."""
    k = len(y)
    # Hedges (HE) starting value, as metafor: (RSS_OLS - tr(P_OLS V)) / (k - 1).
    rss = float(np.sum((y - y.mean()) ** 2))
    tau2 = max(0.0, (rss - float(np.sum(v)) * (k - 1) / k) / (k - 1))
    x = np.ones((k, 1))
    iterations = 0
    change = math.inf
    while change > REML_THRESHOLD:
        if iterations >= REML_MAX_ITERATIONS:
            raise InvalidInput(
                "the REML estimate of tau² did not converge in "
                f"{REML_MAX_ITERATIONS} iterations; try method DL",
                field="method",
            )
        iterations += 1
        tau2_old = tau2
        w = np.diag(1.0 / (v + tau2))
        xtwx_inv = np.linalg.inv(x.T @ w @ x)
        p = w - w @ x @ xtwx_inv @ x.T @ w
        pp = p @ p
        adj = float((y @ pp @ y - np.trace(p)) / np.trace(pp))
        while tau2 + adj < 0.0:
            adj /= 2.0
        tau2 += adj
        change = abs(tau2_old - tau2)
    return max(0.0, tau2), iterations


def pool(
    yi: Sequence[float], vi: Sequence[float], method: PoolMethod | str = PoolMethod.REML
) -> PooledEstimate:
    """Random-effects meta-analysis of effects ``yi`` with sampling variances ``vi``."""
    chosen = method if isinstance(method, PoolMethod) else parse_method(method)
    y, v = _validated(yi, vi)
    k = len(y)
    if chosen is PoolMethod.DL:
        tau2, iterations = _tau2_dl(y, v), 0
    else:
        tau2, iterations = _tau2_reml(y, v)
    w_fe = 1.0 / v
    mu_fe = float(np.sum(w_fe * y) / np.sum(w_fe))
    q = float(np.sum(w_fe * (y - mu_fe) ** 2))
    w = 1.0 / (v + tau2)
    estimate = float(np.sum(w * y) / np.sum(w))
    se = math.sqrt(1.0 / float(np.sum(w)))
    s2 = (k - 1) * float(np.sum(w_fe)) / (float(np.sum(w_fe)) ** 2 - float(np.sum(w_fe**2)))
    i2 = 100.0 * tau2 / (tau2 + s2)
    pi_half = Z_975 * math.sqrt(se**2 + tau2)
    return PooledEstimate(
        method=chosen,
        estimate=estimate,
        se=se,
        ci_low=estimate - Z_975 * se,
        ci_high=estimate + Z_975 * se,
        tau2=tau2,
        i2=i2,
        pi_low=estimate - pi_half,
        pi_high=estimate + pi_half,
        k=k,
        q=q,
        iterations=iterations,
    )


def log_risk_ratio(
    events_treated: int, n_treated: int, events_control: int, n_control: int
) -> tuple[float, float]:
    """Log risk ratio (treated vs control) and its sampling variance, as metafor's
    ``escalc(measure="RR")``: ``yi = log((a/n1) / (c/n2))``,
    ``vi = 1/a - 1/n1 + 1/c - 1/n2``; when a cell is 0, 1/2 is added to each cell
    of that 2×2 table (metafor's ``add=1/2, to="only0"``)."""
    problems: list[Problem] = []
    for name, events, n in (
        ("treated", events_treated, n_treated),
        ("control", events_control, n_control),
    ):
        if n <= 0:
            problems.append(Problem(f"n_{name}", f"{name} group size must be above 0; got {n}"))
        elif not 0 <= events <= n:
            problems.append(
                Problem(f"events_{name}", f"{name} events must be between 0 and {n}; got {events}")
            )
    if problems:
        raise InvalidInput("the 2×2 table is not valid", problems)
    a, b = float(events_treated), float(n_treated - events_treated)
    c, d = float(events_control), float(n_control - events_control)
    if 0.0 in (a, b, c, d):
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    n1, n2 = a + b, c + d
    yi = math.log((a / n1) / (c / n2))
    vi = 1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2
    return yi, vi
