"""The evaluation report: one self-contained HTML page with plots (inline SVG) and the worst errors."""

from __future__ import annotations

import html
import io
from typing import Any, Mapping, Sequence

from bot.evaluate import Outcome


def _svg(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _plots(metrics: dict[str, Any], outcomes: Sequence[Outcome]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    matplotlib.rcParams["svg.fonttype"] = "none"  # labels as SVG text, not glyph outlines: the page is less than half the size
    plots = {}
    labels = metrics["confusion"]["labels"]
    matrix = np.array(metrics["confusion"]["matrix"])
    figure, axes = plt.subplots(figsize=(1.0 + 0.55 * len(labels), 0.8 + 0.5 * len(labels)))
    axes.imshow(matrix, cmap="Oranges")
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    for (row, column), value in np.ndenumerate(matrix):
        if value:
            axes.text(column, row, str(value), ha="center", va="center", fontsize=8, color="black" if value < matrix.max() / 2 else "white")
    plots["confusion"] = _svg(figure)

    per = metrics["per_intent"]
    gold = [label for label in labels if per[label]["support"]]
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(gold) + 1))
    axes.barh(gold, [per[label]["f1"] for label in gold], color="#ff7a3d")
    axes.set_xlim(0, 1)
    axes.set_xlabel("F1")
    axes.invert_yaxis()
    plots["f1"] = _svg(figure)

    curve = metrics["threshold_curve"]
    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.plot([p["threshold"] for p in curve], [p["coverage"] for p in curve], label="coverage (answered)")
    axes.plot([p["threshold"] for p in curve], [p["accuracy"] if p["accuracy"] is not None else np.nan for p in curve], label="accuracy of the answered")
    axes.set_xlabel("intent confidence threshold")
    axes.set_ylim(0, 1.02)
    axes.legend(loc="lower left")
    plots["curve"] = _svg(figure)

    figure, axes = plt.subplots(figsize=(7, 3))
    axes.hist([o.seconds * 1000 for o in outcomes], bins=30, color="#6b7280")
    axes.set_xlabel("suggest latency (ms)")
    axes.set_ylabel("messages")
    plots["latency"] = _svg(figure)
    return plots


def worst_errors(outcomes: Sequence[Outcome], limit: int = 25) -> list[Outcome]:
    """Wrong intents the engine was surest of first, then reply misses."""
    wrong = [o for o in outcomes if o.predicted_intent != o.item.intent]
    wrong.sort(key=lambda o: -o.confidence)
    misses = [o for o in outcomes if o.predicted_intent == o.item.intent and o.item.reply_ids and (o.rank() or 99) > 3]
    return (wrong + misses)[:limit]


def _number(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


SUMMARY = [
    ("n", "messages"), ("intent_accuracy", "intent accuracy"), ("intent_macro_f1", "macro-F1"),
    ("intent_weighted_f1", "weighted-F1"), ("hit@1", "hit@1"), ("hit@3", "hit@3"), ("mrr", "MRR"),
    ("abstention_rate", "abstention rate"),
]


def render(runs: Mapping[str, tuple[dict[str, Any], Sequence[Outcome]]], title: str, notes: Sequence[str] = ()) -> str:
    """HTML for one run, or several side by side (the first is the reference for the differences)."""
    names = list(runs)
    rows = []
    for key, label in SUMMARY + [("latency_p50", "latency p50 (ms)"), ("latency_p95", "latency p95 (ms)"), ("latency_p99", "latency p99 (ms)")]:
        values: list[Any] = []
        for name in names:
            m = runs[name][0]
            values.append(m["latency_ms"][key.split("_")[1]] if key.startswith("latency_") else m.get(key))
        cells = "".join(f"<td>{_number(v)}</td>" for v in values)
        if len(names) > 1 and all(isinstance(v, (int, float)) for v in values):
            cells += f"<td>{values[-1] - values[0]:+.3f}</td>"
        rows.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
    header = "".join(f"<th>{html.escape(n)}</th>" for n in names) + ("<th>difference</th>" if len(names) > 1 else "")
    sections = []
    for name in names:
        metrics, outcomes = runs[name]
        plots = _plots(metrics, outcomes)
        errors = "".join(
            f"<tr><td>{html.escape(o.item.text)}</td><td>{html.escape(o.item.intent)}</td><td>{html.escape(o.predicted_intent)}</td>"
            f"<td>{o.confidence:.2f}</td><td>{html.escape(' | '.join(o.item.reply_ids))}</td><td>{html.escape(' | '.join(o.reply_ids))}</td></tr>"
            for o in worst_errors(outcomes)
        )
        sections.append(
            f"<section><h2>{html.escape(name)}</h2>"
            f"<div class='grid'><figure id='plot-confusion'><figcaption>Confusion matrix</figcaption>{plots['confusion']}</figure>"
            f"<figure id='plot-f1'><figcaption>F1 per intent</figcaption>{plots['f1']}</figure>"
            f"<figure id='plot-curve'><figcaption>Coverage and accuracy over the confidence threshold</figcaption>{plots['curve']}</figure>"
            f"<figure id='plot-latency'><figcaption>Latency</figcaption>{plots['latency']}</figure></div>"
            f"<h3>Worst errors</h3><table class='errors'><tr><th>text</th><th>gold</th><th>predicted</th><th>confidence</th>"
            f"<th>gold replies</th><th>suggested</th></tr>{errors}</table></section>"
        )
    note_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", sans-serif; margin: 24px; color: #1f2937; }}
table {{ border-collapse: collapse; margin: 8px 0 16px; }} th, td {{ border: 1px solid #d9dde3; padding: 4px 8px; text-align: left; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }}
figure {{ margin: 0; }} figcaption {{ font-weight: 600; margin-bottom: 4px; }} svg {{ max-width: 100%; height: auto; }}
.errors td:first-child {{ max-width: 320px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<ul>{note_html}</ul>
<table id="summary"><tr><th></th>{header}</tr>{''.join(rows)}</table>
{''.join(sections)}
</body></html>
"""
