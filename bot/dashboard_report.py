"""`bot report`: the dashboard's figures for analysts, as CSV files and one self-contained HTML page drawn by the
same code as /dashboard (its script and styles inlined, the figures embedded as JSON)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable

from bot.dashboard import Period, dashboard
from bot.db import connect

STATIC = Path(__file__).resolve().parent / "server" / "static"
ALL_ENTRIES = 100_000  # the report lists every entry with traffic (the page pages them)


def _write_csv(path: Path, rows: Iterable[dict[str, Any]], columns: list[str]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:  # with a BOM: Excel opens the Chinese right
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("; ".join(v) if isinstance(v, list) else v) for k, v in row.items()})


def _inline_script(text: str) -> str:
    return text.replace("</", "<\\/")  # no "</script>" inside an inline script, whatever a buyer wrote


def _page(data: dict[str, Any], server: str) -> str:
    template = (STATIC / "dashboard.html").read_text(encoding="utf-8")
    styles = "\n".join((STATIC / name).read_text(encoding="utf-8") for name in ("console.css", "dashboard.css"))
    script = (STATIC / "dashboard.js").read_text(encoding="utf-8")
    embedded = (f"window.DASHBOARD_DATA = {json.dumps(data, ensure_ascii=False)};\n"
                f"window.DASHBOARD_SERVER = {json.dumps(server.rstrip('/'))};\n")
    page = template.replace('<link rel="stylesheet" href="/static/console.css">\n<link rel="stylesheet" href="/static/dashboard.css">',
                            f"<style>\n{styles}\n</style>")
    page = page.replace('<script src="/static/auth.js"></script>\n<script src="/static/dashboard.js"></script>',
                        f"<script>\n{_inline_script(embedded)}\n{_inline_script(script)}\n</script>")
    return page.replace("<title>运营看板 · 回复建议</title>", "<title>运营报告 · 回复建议</title>")


def write_report(db_url: str, period: Period, out_dir: Path, server: str, per_agent: bool = True) -> list[Path]:
    """Write the period's figures under out_dir: one CSV per table, figures.json and report.html; returns the files."""
    db = connect(db_url)
    try:
        data = dashboard(db, period, per_agent, limit=ALL_ENTRIES)
    finally:
        db.dispose()
    out_dir.mkdir(parents=True, exist_ok=True)
    a, c, s = data["acceptance"], data["coverage"], data["speed"]
    tables = {
        "acceptance_daily.csv": (a["daily"], ["day", "answered", "from_suggestion", "rate"]),
        "acceptance_by_rank.csv": (a["by_rank"], ["rank", "count", "share"]),
        "acceptance_by_intent.csv": (a["by_intent"], ["intent", "answered", "from_suggestion", "rate"]),
        "edits.csv": (data["edits"]["histogram"], ["bucket", "count", "share"]),
        "entries.csv": (data["entries"]["items"], ["entry_id", "shown", "taken", "taken_unedited", "mean_relative_edit", "ignored"]),
        "rewrite_candidates.csv": ([{**r, "versions": [v["text"] for v in r["versions"]]} for r in data["rewrite_candidates"]],
                                   ["entry_id", "taken", "mean_relative_edit", "answer", "versions"]),
        "dead_weight.csv": (data["dead_weight"], ["entry_id", "shown", "answer"]),
        "coverage_daily.csv": (c["daily"], ["day", "messages", "abstained", "rate"]),
        "unanswered.csv": (c["unanswered"], ["intent", "count", "examples"]),
        "speed.csv": ([{"figure": "wait", **s["wait"]}, {"figure": "suggest_latency", **s["suggest_latency"]}],
                      ["figure", "count", "p50_ms", "p90_ms", "p95_ms"]),
    }
    if per_agent:
        tables["agents.csv"] = (s.get("per_agent", []), ["agent", "answered", "from_suggestion", "rate", "p50_ms", "p90_ms"])
    written = []
    for name, (rows, columns) in tables.items():
        _write_csv(out_dir / name, rows, columns)
        written.append(out_dir / name)
    (out_dir / "figures.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "report.html").write_text(_page(data, server), encoding="utf-8")
    return written + [out_dir / "figures.json", out_dir / "report.html"]
