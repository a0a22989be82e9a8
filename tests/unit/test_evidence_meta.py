"""Random-effects meta-analysis against R metafor's published results (dat.bcg, dat.raudenbush1985).

Reference data and values (recorded here so the comparison can be re-checked):

* dat.bcg 2×2 counts (13 BCG vaccine trials; Colditz et al. 1994), as printed by
  ``print(dat.bcg)`` from metafor (e.g. shixiangwang.github.io "metafor——元分析技术实现"
  showing the data set) and used in metafor's own test
  ``tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r`` (wviechtb/metafor):
  tpos, tneg, cpos, cneg below.
* yi/vi = ``escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)``,
  computed here from the counts: yi = log((a/n1)/(c/n2)), vi = 1/a − 1/n1 + 1/c − 1/n2.
* DL: metafor test ``test_misc_metan_vs_rma.uni_with_dat.bcg.r`` ("RE model w/ DL
  estimator, measure='RR'", checked there against Stata metan): estimate −0.7141,
  ci −1.0644 to −0.3638, z −3.9952, tau² 0.3088, I² 92.1173; FE Q 152.2330.
* REML (rma() default): metafor's documented example output for
  ``rma(yi, vi, data=dat)`` (Viechtbauer 2010, J Stat Softw 36(3), and the metafor
  docs): estimate −0.7145, se 0.1798, ci −1.0669 to −0.3622, tau² 0.3132, I² 92.22%;
  to more digits estimate 0.7145323 (sign flipped) and tau² 0.3132433 as asserted in
  an independent R test against metafor::rma(method="REML").
* Prediction interval: metafor's predict() with test="z": est ± qnorm(.975)·sqrt(se² + tau²);
  the reference interval below is that formula applied to the published values above.

The published values have 4 decimals, so agreement is checked to within half a unit
of the last published digit (5e-5, i.e. better than the 1e-4 target).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from painpath.kit.errors import InvalidInput
from painpath.response.domain.meta import PoolMethod, log_risk_ratio, parse_method, pool

TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]

# metafor published values (see the module docstring for the sources)
METAFOR_REML = {
    "estimate": -0.7145,
    "se": 0.1798,
    "ci_low": -1.0669,
    "ci_high": -0.3622,
    "tau2": 0.3132,
    "i2": 92.22,
}
METAFOR_REML_MORE_DIGITS = {"estimate": -0.7145323, "tau2": 0.3132433}
METAFOR_DL = {
    "estimate": -0.7141,
    "ci_low": -1.0644,
    "ci_high": -0.3638,
    "tau2": 0.3088,
    "i2": 92.1173,
    "z": -3.9952,
}
METAFOR_Q = 152.2330
HALF_LAST_DIGIT = 5e-5


def bcg() -> tuple[list[float], list[float]]:
    pairs = [
        log_risk_ratio(a, a + b, c, c + d)
        for a, b, c, d in zip(TPOS, TNEG, CPOS, CNEG, strict=True)
    ]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def test_bcg_log_risk_ratios_match_escalc_for_the_first_trial() -> None:
    yi, vi = bcg()
    # Aronson 1948: log((4/123)/(11/139)), 1/4 - 1/123 + 1/11 - 1/139
    assert yi[0] == pytest.approx(math.log((4 / 123) / (11 / 139)), abs=1e-12)
    assert yi[0] == pytest.approx(-0.8893, abs=HALF_LAST_DIGIT)
    assert vi[0] == pytest.approx(1 / 4 - 1 / 123 + 1 / 11 - 1 / 139, abs=1e-12)
    assert vi[0] == pytest.approx(0.3256, abs=HALF_LAST_DIGIT)
    assert len(yi) == 13


def test_reml_matches_metafor_published_values() -> None:
    yi, vi = bcg()
    result = pool(yi, vi, PoolMethod.REML)
    for name, expected in METAFOR_REML.items():
        tolerance = 0.005 if name == "i2" else HALF_LAST_DIGIT  # I² published as 92.22%
        assert getattr(result, name) == pytest.approx(expected, abs=tolerance), name
    assert result.estimate == pytest.approx(METAFOR_REML_MORE_DIGITS["estimate"], abs=5e-7)
    assert result.tau2 == pytest.approx(METAFOR_REML_MORE_DIGITS["tau2"], abs=5e-7)
    assert result.q == pytest.approx(METAFOR_Q, abs=HALF_LAST_DIGIT)
    assert result.k == 13


def test_dl_matches_metafor_published_values() -> None:
    yi, vi = bcg()
    result = pool(yi, vi, "DL")
    assert result.estimate == pytest.approx(METAFOR_DL["estimate"], abs=HALF_LAST_DIGIT)
    assert result.ci_low == pytest.approx(METAFOR_DL["ci_low"], abs=HALF_LAST_DIGIT)
    assert result.ci_high == pytest.approx(METAFOR_DL["ci_high"], abs=HALF_LAST_DIGIT)
    assert result.tau2 == pytest.approx(METAFOR_DL["tau2"], abs=HALF_LAST_DIGIT)
    assert result.i2 == pytest.approx(METAFOR_DL["i2"], abs=HALF_LAST_DIGIT)
    assert result.estimate / result.se == pytest.approx(METAFOR_DL["z"], abs=HALF_LAST_DIGIT)
    assert result.se == pytest.approx(0.1787, abs=HALF_LAST_DIGIT)


@pytest.mark.parametrize("method", ["REML", "DL"])
def test_prediction_interval_is_metafor_z_formula(method: str) -> None:
    yi, vi = bcg()
    result = pool(yi, vi, method)
    half = stats.norm.ppf(0.975) * math.sqrt(result.se**2 + result.tau2)
    assert result.pi_low == pytest.approx(result.estimate - half, abs=1e-12)
    assert result.pi_high == pytest.approx(result.estimate + half, abs=1e-12)


def test_reml_prediction_interval_from_published_numbers() -> None:
    yi, vi = bcg()
    result = pool(yi, vi, "REML")
    published = METAFOR_REML
    half = 1.959964 * math.sqrt(published["se"] ** 2 + published["tau2"])
    # rounding of the published inputs moves the bounds by < 1e-4
    assert result.pi_low == pytest.approx(published["estimate"] - half, abs=1e-4)
    assert result.pi_high == pytest.approx(published["estimate"] + half, abs=1e-4)
    assert result.pi_low == pytest.approx(-1.8667, abs=1e-4)
    assert result.pi_high == pytest.approx(0.4376, abs=1e-4)


def test_reml_is_the_maximum_of_the_restricted_likelihood() -> None:
    """Independent check: maximise the REML log-likelihood directly with scipy."""
    yi, vi = bcg()
    y, v = np.asarray(yi), np.asarray(vi)

    def negative_restricted_loglik(tau2: float) -> float:
        w = 1.0 / (v + tau2)
        mu = float(np.sum(w * y) / np.sum(w))
        return 0.5 * float(
            np.sum(np.log(v + tau2)) + math.log(np.sum(w)) + np.sum(w * (y - mu) ** 2)
        )

    best = optimize.minimize_scalar(
        negative_restricted_loglik, bounds=(0.0, 5.0), method="bounded", options={"xatol": 1e-10}
    )
    assert pool(yi, vi, "REML").tau2 == pytest.approx(best.x, abs=1e-5)


def test_dl_agrees_with_statsmodels_combine_effects() -> None:
    yi, vi = bcg()
    ours = pool(yi, vi, "DL")
    theirs = combine_effects(np.asarray(yi), np.asarray(vi), method_re="chi2")
    frame = theirs.summary_frame()
    assert ours.tau2 == pytest.approx(theirs.tau2, abs=1e-10)
    assert ours.estimate == pytest.approx(frame.loc["random effect", "eff"], abs=1e-10)
    assert ours.se == pytest.approx(frame.loc["random effect", "sd_eff"], abs=1e-10)
    assert ours.ci_low == pytest.approx(frame.loc["random effect", "ci_low"], abs=1e-8)
    assert ours.ci_high == pytest.approx(frame.loc["random effect", "ci_upp"], abs=1e-8)
    assert ours.q == pytest.approx(theirs.q, abs=1e-8)


def test_reml_pooled_mean_given_tau2_agrees_with_statsmodels() -> None:
    """statsmodels has no REML here, but for a given tau² the pooled mean and its se
    are the same formula: check ours against its fixed-effect routine on vi + tau²."""
    yi, vi = bcg()
    ours = pool(yi, vi, "REML")
    shifted = combine_effects(np.asarray(yi), np.asarray(vi) + ours.tau2, method_re="chi2")
    frame = shifted.summary_frame()
    assert ours.estimate == pytest.approx(frame.loc["fixed effect", "eff"], abs=1e-10)
    assert ours.se == pytest.approx(frame.loc["fixed effect", "sd_eff"], abs=1e-10)


def test_homogeneous_studies_give_zero_tau2_and_zero_i2() -> None:
    yi = [0.2, 0.2, 0.2, 0.2]
    vi = [0.01, 0.02, 0.03, 0.04]
    for method in ("REML", "DL"):
        result = pool(yi, vi, method)
        assert result.tau2 == 0.0
        assert result.i2 == 0.0
        assert result.estimate == pytest.approx(0.2)
        assert (result.pi_low, result.pi_high) == pytest.approx((result.ci_low, result.ci_high))


def test_method_names_are_case_insensitive_and_unknown_ones_rejected() -> None:
    assert parse_method("reml") is PoolMethod.REML
    assert parse_method(" dl ") is PoolMethod.DL
    with pytest.raises(InvalidInput, match="unknown method 'PM'"):
        parse_method("PM")


@pytest.mark.parametrize(
    ("yi", "vi", "message"),
    [
        ([0.1], [0.1], "at least 2 studies"),
        ([0.1, 0.2], [0.1], "one variance per study"),
        ([0.1, float("nan")], [0.1, 0.1], "study 2: effect"),
        ([0.1, 0.2], [0.1, 0.0], "study 2: variance"),
        ([0.1, 0.2], [-1.0, 0.1], "study 1: variance"),
    ],
)
def test_bad_study_data_is_a_clear_error(yi: list[float], vi: list[float], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        pool(yi, vi)
    text = caught.value.message + " " + " ".join(p.message for p in caught.value.problems)
    assert message in text


def test_log_risk_ratio_adds_a_half_when_a_cell_is_zero() -> None:
    yi, vi = log_risk_ratio(0, 50, 5, 50)
    assert yi == pytest.approx(math.log((0.5 / 51) / (5.5 / 51)))
    assert vi == pytest.approx(1 / 0.5 - 1 / 51 + 1 / 5.5 - 1 / 51)
    with pytest.raises(InvalidInput):
        log_risk_ratio(60, 50, 5, 50)


# Second published example: dat.raudenbush1985 (teacher expectancy effects on pupil IQ,
# 19 studies; Raudenbush 1984, Raudenbush & Bryk 1985). yi (standardised mean
# differences) and vi as listed by metafor's data set (metafor-project.org,
# "Models with Multiple Factors and Their Interaction", printing dat.raudenbush1985).
# Reference values: metafor's own test tests/testthat/test_analysis_example_raudenbush1985.r
# (wviechtb/metafor), rma(yi, vi) with the REML default: tau² 0.0188, estimate 0.0837,
# QE 35.8295, z 1.6208 (checked there against the paper, pages 83-86).
RAUDENBUSH_YI = [0.03, 0.12, -0.14, 1.18, 0.26, -0.06, -0.02, -0.32, 0.27, 0.80]
RAUDENBUSH_YI += [0.54, 0.18, -0.02, 0.23, -0.18, -0.06, 0.30, 0.07, -0.07]
RAUDENBUSH_VI = [0.0156, 0.0216, 0.0279, 0.1391, 0.1362, 0.0106, 0.0106, 0.0484, 0.0269]
RAUDENBUSH_VI += [0.0630, 0.0912, 0.0497, 0.0835, 0.0841, 0.0253, 0.0279, 0.0193, 0.0088]
RAUDENBUSH_VI += [0.0303]


def test_reml_matches_metafor_on_raudenbush1985() -> None:
    result = pool(RAUDENBUSH_YI, RAUDENBUSH_VI, "REML")
    assert result.k == 19
    assert result.tau2 == pytest.approx(0.0188, abs=HALF_LAST_DIGIT)
    assert result.estimate == pytest.approx(0.0837, abs=HALF_LAST_DIGIT)
    assert result.q == pytest.approx(35.8295, abs=HALF_LAST_DIGIT)
    assert result.estimate / result.se == pytest.approx(1.6208, abs=HALF_LAST_DIGIT)


def test_dl_on_raudenbush1985_is_the_moment_estimator() -> None:
    """DL tau² from its closed form: max(0, (Q - (k-1)) / (sum w - sum w² / sum w))."""
    result = pool(RAUDENBUSH_YI, RAUDENBUSH_VI, "DL")
    w = [1 / v for v in RAUDENBUSH_VI]
    c = sum(w) - sum(x * x for x in w) / sum(w)
    assert result.q == pytest.approx(35.8295, abs=HALF_LAST_DIGIT)
    assert result.tau2 == pytest.approx(max(0.0, (result.q - 18) / c), abs=1e-9)
    assert result.i2 == pytest.approx(100 * (result.q - 18) / result.q, abs=1e-9)
