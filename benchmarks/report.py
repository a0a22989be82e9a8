"""The results as a table for the terminal and as Markdown for docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

START = "<!-- results:start (written by `make bench`; edit outside these markers) -->"
END = "<!-- results:end -->"


def _ok(met: bool | None) -> str:
    if met is None:
        return "not measured"
    return "met" if met else "NOT met"


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(what, measured, target, verdict) for every figure with a target."""
    out: list[tuple[str, str, str, str]] = []
    for w in results.get("writes", []):
        label = w["label"]
        ceiling = w["healthz"]["throughput_rps"]
        for kind, name in (("diary", "diary entries"), ("dose", "dose events")):
            r = w[kind]
            ratio = r["ratio_to_healthz"]
            met = ratio >= 0.5 and r["p99_ms"] < 100 and r["ok"] == r["requests"]
            out.append(
                (
                    f"1. {name}, {label}",
                    f"{r['throughput_rps']:.0f}/s = {ratio:.0%} of /healthz {ceiling:.0f}/s; "
                    f"p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms"
                    + ("" if r["ok"] == r["requests"] else f"; {r['statuses']}"),
                    "≥ 50% of /healthz, p99 < 100 ms",
                    _ok(met),
                )
            )
    for step in results.get("scale", {}).get("steps", []):
        n = step["patients"]
        for name, t in step.get("caseload", {}).items():
            out.append(
                (
                    f"2. {name}, {n:,} patients",
                    f"p50 {t['p50_ms']:.0f} ms, p95 {t['p95_ms']:.0f} ms",
                    "p95 < 100 ms",
                    _ok(t["p95_ms"] < 100),
                )
            )
        response = step.get("response", {})
        if "one patient" in response:
            t = response["one patient"]
            out.append(
                (
                    f"3. Does it help? one patient ({response['diary_days']} diary days), "
                    f"{n:,} patients",
                    f"p50 {t['p50_ms']:.0f} ms, p95 {t['p95_ms']:.0f} ms",
                    "< 50 ms",
                    _ok(t["p95_ms"] < 50),
                )
            )
        if "whole caseload" in response:
            c = response["whole caseload"]
            out.append(
                (
                    f"3. Does it help? whole caseload ({c['patients']:,} patients)",
                    f"{c['seconds']:.1f} s",
                    "< 10 s",
                    _ok(c["seconds"] < 10),
                )
            )
        if "outcomes csv" in response:
            c = response["outcomes csv"]
            out.append(
                (
                    f"3. Caseload outcomes CSV ({c['rows']:,} patients)",
                    f"{c['seconds']:.1f} s",
                    "< 10 s",
                    _ok(c["seconds"] < 10),
                )
            )
        report = step.get("report")
        if report is not None:
            if report.get("measured"):
                out.append(
                    (
                        "4. Report PDF, a year of data",
                        f"p50 {report['p50_ms']:.0f} ms, max {report['max_ms']:.0f} ms "
                        f"(first {report['first_ms']:.0f} ms)",
                        "< 2 s",
                        _ok(report["max_ms"] < 2000),
                    )
                )
            else:
                out.append(("4. Report PDF", report.get("why", ""), "< 2 s", _ok(None)))
    for w in results.get("writes", []):
        biggest = w.get("rss_peak_process_mib", w["rss_peak_mib"])
        out.append(
            (
                f"5. Server RSS under write load, {w['label']}",
                f"largest process {biggest:.0f} MiB; all {w['processes']} processes "
                f"{w['rss_peak_mib']:.0f} MiB (idle {w['rss_idle_mib']:.0f} MiB)",
                "< 300 MB per server process",
                _ok(biggest * 1.048576 < 300),
            )
        )
    scale = results.get("scale", {})
    loads = scale.get("loads", [])
    if loads:
        rows_total = sum(x["total_rows"] for x in loads)
        seconds = sum(x["seconds"] for x in loads)
        limit = scale.get("copy_limit", {})
        limit_rows = sum(v["rows"] for v in limit.values())
        limit_s = sum(v["seconds"] for v in limit.values())
        limit_rate = limit_rows / limit_s if limit_s else 0
        rate = rows_total / seconds if seconds else 0
        out.append(
            (
                "6. Ingest, bulk path (PostgreSQL COPY)",
                f"{rate:,.0f} rows/s ({rows_total:,} rows in {seconds:,.0f} s); "
                f"PostgreSQL's own COPY of the same rows {limit_rate:,.0f} rows/s "
                f"({rate / limit_rate:.0%} of it)"
                if limit_rate
                else f"{rate:,.0f} rows/s",
                "measured against the COPY limit",
                "measured",
            )
        )
    return out


def table(results: dict[str, Any]) -> str:
    data = rows(results)
    header = ("what", "measured", "target", "verdict")
    widths = [max(len(r[i]) for r in [header, *data]) for i in range(4)]
    widths[1] = min(widths[1], 90)
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    for r in data:
        lines.append(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    return "\n".join(lines)


def _md_table(header: list[str], body: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(out)


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    parts = [
        START,
        "",
        f"### Results of {results['started']} ({results['scale_name']} scale)",
        "",
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux "
        f"{m['kernel']}; Python {m['python']}; PostgreSQL {m['postgresql']}; "
        f"SQLite {m['sqlite']}.",
        f"- Load average (1, 5, 15 min) at the start: {m['load']}; at the end: "
        f"{results['load_at_end']}. Other engineers' test suites were running on the same "
        "two cores: see *Noise* below.",
        f"- Scale: {results.get('scale', {}).get('scale', 'not run')}.",
        f"- Wall time of the whole run: {results['wall_seconds'] / 60:.1f} minutes.",
        "",
        _md_table(["what", "measured", "target", "verdict"], [list(r) for r in rows(results)]),
        "",
    ]
    writes = results.get("writes", [])
    if writes:
        body = []
        for w in writes:
            h = w["healthz"]
            for kind in ("healthz", "diary", "dose"):
                r = w[kind]
                ratio = "100%" if kind == "healthz" else f"{r['ratio_to_healthz']:.0%}"
                body.append(
                    [
                        w["label"],
                        {"healthz": "GET /healthz", "diary": "POST diary-entries"}.get(
                            kind, "POST dose-events"
                        ),
                        f"{r['throughput_rps']:.0f}",
                        ratio,
                        f"{r['p50_ms']:.1f}",
                        f"{r['p95_ms']:.1f}",
                        f"{r['p99_ms']:.1f}",
                        f"{r['ok']}/{r['requests']}",
                    ]
                )
            _ = h
        parts += [
            "#### 1. Writes by 16 concurrent clients, and 5. memory",
            "",
            _md_table(
                [
                    "server",
                    "request",
                    "per second",
                    "of /healthz",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "2xx / all",
                ],
                body,
            ),
            "",
            _md_table(
                [
                    "server",
                    "processes",
                    "RSS idle MiB (all)",
                    "RSS peak under load MiB (all)",
                    "largest process MiB",
                ],
                [
                    [
                        w["label"],
                        str(w["processes"]),
                        f"{w['rss_idle_mib']:.0f}",
                        f"{w['rss_peak_mib']:.0f}",
                        f"{w.get('rss_peak_process_mib', w['rss_peak_mib']):.0f}",
                    ]
                    for w in writes
                ],
            ),
            "",
        ]
    scale = results.get("scale")
    if scale:
        steps = scale["steps"]
        names = list(steps[0]["caseload"]) if steps else []
        header = ["request", *[f"{s['patients']:,} patients p50 / p95 ms" for s in steps]]
        body = [
            [
                n,
                *[
                    f"{s['caseload'][n]['p50_ms']:.0f} / {s['caseload'][n]['p95_ms']:.0f}"
                    for s in steps
                ],
            ]
            for n in names
        ]
        sizes = [
            [
                f"{s['patients']:,}",
                f"{s['counts']['diary_entries']:,}",
                f"{s['counts']['dose_events']:,}",
                f"{s['counts']['questionnaire_responses']:,}",
                f"{s['database_mib']:,}",
            ]
            for s in steps
        ]
        parts += [
            "#### 2. The caseload of a GP with 2,000 patients, as the database grows",
            "",
            _md_table(
                ["patients", "diary rows", "dose events", "questionnaires", "database MiB"],
                sizes,
            ),
            "",
            _md_table(header, body),
            "",
            "In process (the same pages with the routes called inline): wall time, and the "
            "CPU time of the application process itself, which hardly depends on what else "
            "runs on the machine:",
            "",
            _md_table(
                [
                    "request",
                    *[
                        f"{s['patients']:,} patients: wall p50 / CPU p50 / CPU p95 ms"
                        for s in steps
                    ],
                ],
                [
                    [
                        n,
                        *[
                            "{wall_p50_ms:.0f} / {cpu_p50_ms:.0f} / {cpu_p95_ms:.0f}".format(
                                **s.get("caseload_cpu", {}).get(
                                    n, {"wall_p50_ms": 0, "cpu_p50_ms": 0, "cpu_p95_ms": 0}
                                )
                            )
                            for s in steps
                        ],
                    ]
                    for n in ("dashboard page 1", "GET /api/v1/patients")
                ],
            ),
            "",
            "One clinician, requests one after another (each figure from "
            f"{steps[0]['caseload'][names[0]]['n'] if names else 0} requests after 3 warm-up "
            "requests), against `painpath serve` (one process) on PostgreSQL.",
            "",
        ]
        for s in steps:
            r = s.get("response", {})
            if "one patient" in r:
                t = r["one patient"]
                line = (
                    f"- {s['patients']:,} patients: *Does it help?* for one patient with "
                    f"{r['diary_days']} diary days: p50 {t['p50_ms']:.1f} ms, p95 "
                    f"{t['p95_ms']:.1f} ms"
                )
                if "whole caseload" in r:
                    c = r["whole caseload"]
                    line += (
                        f"; the whole caseload of {c['patients']:,}: {c['seconds']:.1f} s "
                        f"(results: {c['categories']})"
                    )
                if "one by one" in r:
                    c = r["one by one"]
                    same = "the same results" if c["same_categories"] else "DIFFERENT results"
                    line += (
                        f"; the same caseload one patient at a time (`course_result` each, "
                        f"as before the batch): {c['seconds']:.1f} s, {same}"
                    )
                if "outcomes csv" in r:
                    c = r["outcomes csv"]
                    line += (
                        f"; the caseload outcomes CSV (`caseload_outcomes_csv`, the caseload "
                        f"pages included): {c['seconds']:.1f} s for {c['rows']:,} patients"
                    )
                parts.append(line + ".")
            rep = s.get("report")
            if rep:
                if rep.get("measured"):
                    parts.append(
                        f"- Report PDF ({rep['path']}): first {rep['first_ms']:.0f} ms, then "
                        f"p50 {rep['p50_ms']:.0f} ms, max {rep['max_ms']:.0f} ms, "
                        f"{rep['bytes']:,} bytes."
                    )
                else:
                    parts.append(f"- Report PDF: not measured ({rep.get('why')}).")
        parts.append("")
        loads = scale.get("loads", [])
        parts += [
            "#### 6. Ingest",
            "",
            _md_table(
                ["patients", "rows", "seconds", "rows per second", "diary rows", "dose events"],
                [
                    [
                        x["range"],
                        f"{x['total_rows']:,}",
                        f"{x['seconds']:.0f}",
                        f"{x['rows_per_second']:,}",
                        f"{x['rows']['diary_entries']:,}",
                        f"{x['rows']['dose_events']:,}",
                    ]
                    for x in loads
                ],
            ),
            "",
            "PostgreSQL's own `COPY` of the same rows (taken back out of the loaded tables) "
            "into an empty table with the same columns, indexes and constraints:",
            "",
            _md_table(
                ["table", "rows", "MiB", "seconds", "rows per second"],
                [
                    [
                        t,
                        f"{v['rows']:,}",
                        f"{v['mib']}",
                        f"{v['seconds']}",
                        f"{v['rows_per_second']:,}",
                    ]
                    for t, v in scale.get("copy_limit", {}).items()
                ],
            ),
            "",
        ]
    parts.append(END)
    return "\n".join(parts)


def write(path: Path, results: dict[str, Any]) -> None:
    """Replace the results between the markers in ``path`` (or start the file)."""
    block = markdown(results)
    if path.exists():
        text = path.read_text()
        if START in text and END in text:
            before = text.split(START, 1)[0]
            after = text.split(END, 1)[1]
            path.write_text(before + block + after)
            return
        path.write_text(text.rstrip() + "\n\n" + block + "\n")
        return
    path.write_text("# Benchmarks\n\n" + block + "\n")
