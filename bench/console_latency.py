"""Time from a customer message being posted to its suggestions painted in the agent page, in a real Chromium.

    .venv/bin/python bench/console_latency.py [--messages 130] [--model models/x.tar.gz]

The agent page itself posts each buyer message (the held-out paraphrases, in order, in one
conversation so context grows as in a real chat) and waits, frame by frame, until the suggestion
panel for that message is painted. A baseline measured in the same run, the page's round trip to
GET /api/health, is reported alongside: compare ratios across runs, these machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PROJECT, chromium, running_server  # noqa: E402

MEASURE = """
async ([texts, conversation]) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const out = [], base = [];
  for (const text of texts) {
    let t0 = performance.now();
    await fetch("/api/health");
    base.push(performance.now() - t0);
    t0 = performance.now();
    const response = await fetch(`/api/conversations/${conversation}/messages`, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({text}),
    });
    const id = String((await response.json()).message.id);
    while (document.body.dataset.lastPainted !== id) await frame();
    await frame();  // the frame that shows it
    out.push(performance.now() - t0);
  }
  return [out, base];
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=130)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    from ruamel.yaml import YAML

    items = YAML(typ="safe", pure=True).load((PROJECT / "tests/data/paraphrases_test.yml").read_text(encoding="utf-8"))
    texts = [items[i % len(items)]["text"] for i in range(args.messages)]
    with running_server(args.model) as server, chromium() as browser:
        base = server.base
        page = browser.new_page()
        server.login(page)
        page.goto(base + "/agent")
        page.wait_for_selector("body[data-connected=true]")
        page.evaluate(MEASURE, [texts[:3], "bench"])  # warm-up; the first conversation is the selected one
        latencies, baseline = page.evaluate(MEASURE, [texts, "bench"])

    def pct(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    report = {
        "messages": len(latencies),
        "post_to_painted_ms_p50": round(pct(latencies, 50), 1),
        "post_to_painted_ms_p95": round(pct(latencies, 95), 1),
        "baseline_health_roundtrip_ms_p50": round(statistics.median(baseline), 2),
        "p50_over_baseline": round(pct(latencies, 50) / statistics.median(baseline), 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
