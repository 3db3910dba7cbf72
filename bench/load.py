"""Load: 20 agents and 2 editors on one real `bot serve` over loopback for a fixed time (asyncio + aiohttp).

    .venv/bin/python bench/load.py                      # stress: 20 agents, 2 editors, 60 s, seed KB, SQLite
    .venv/bin/python bench/load.py --agents 40 --seconds 120
    .venv/bin/python bench/load.py --profile realistic  # 20 agents x 4 chats, a buyer message every 15 s a chat, 10 min
    .venv/bin/python bench/load.py --postgres           # the same on a PostgreSQL server started for the run

The realistic profile paces people as people: each chat's buyer writes every 10-20 s, the agent answers after 2-8 s,
and each editor changes an entry every 20-40 s.

Each agent runs one conversation after another as the console does: the buyer's message is posted
(`POST .../messages`, which suggests), the agent thinks for 0.2-1 s, sends a reply with the picked
suggestion (`POST .../replies`, which writes picked/ignored/sent feedback), now and then asks for
suggestions again (`GET /api/suggest`) and reports a suggestion it ignored (`POST /api/feedback`).
Each editor, every 1-3 s, creates an entry, approves it, edits it and approves the edit, and reads
the entry list. Every request and its status is recorded; after the run the acknowledged feedback
(the `feedback` count each 201 reply returns, plus each acknowledged /api/feedback) is counted in the
database. The agents and editors authenticate with API tokens of their roles. Results:
bench/results/load.json (bench/results.py puts them in RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PROJECT, running_server  # noqa: E402

sys.path.insert(0, str(PROJECT))
OUT = PROJECT / "bench" / "results" / "load.json"


def buyer_messages() -> list[str]:
    return [json.loads(line)["text"] for line in (PROJECT / "tests/data/chat_log.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


class Recorder:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.feedback_acknowledged = 0
        self.errors: list[str] = []
        self.client_error_samples: list[str] = []

    async def call(self, http: Any, name: str, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        started = time.perf_counter()
        try:
            async with http.request(method, url, **kwargs) as response:
                body = await response.json(content_type=None)
                status = response.status
            if 400 <= status < 500 and len(self.client_error_samples) < 5:
                self.client_error_samples.append(f"{name} {status}: {(body or {}).get('error')}")
        except Exception as exc:  # a refused connection or a dropped response counts as a failure
            self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            status, body = 599, None
        self.latency[name].append((time.perf_counter() - started) * 1000)
        self.status[name][status] += 1
        return status, body


@dataclass(frozen=True)
class Profile:
    """How fast the people act: seconds between a buyer's messages in a chat, an agent's thinking, an editor's rounds."""

    chats_per_agent: int
    buyer_pause: tuple[float, float]
    agent_think: tuple[float, float]
    editor_pause: tuple[float, float]
    seconds: float


PROFILES = {
    "stress": Profile(1, (0.0, 0.0), (0.2, 1.0), (1.0, 3.0), 60),  # far above a human pace
    "realistic": Profile(4, (10.0, 20.0), (2.0, 8.0), (20.0, 40.0), 600),
}


async def agent(http: Any, base: str, n: int, until: float, texts: list[str], rec: Recorder, profile: Profile) -> None:
    """One agent's chats, each in turn: a buyer message, a reply after thinking, sometimes more suggestions or feedback."""
    await asyncio.gather(*(chat(http, base, n, c, until, texts, rec, profile) for c in range(profile.chats_per_agent)))


async def chat(http: Any, base: str, n: int, lane: int, until: float, texts: list[str], rec: Recorder, profile: Profile) -> None:
    rng = random.Random(n * 100 + lane)
    chat = 0
    while time.monotonic() < until:
        conversation = f"load-{n}-{lane}-{chat}"
        for _ in range(rng.randint(1, 4)):
            await asyncio.sleep(rng.uniform(*profile.buyer_pause))
            if time.monotonic() >= until:
                break
            status, posted = await rec.call(http, "post message (suggest)", "POST", f"{base}/api/conversations/{conversation}/messages", json={"text": rng.choice(texts)})
            if status != 201:
                continue
            await asyncio.sleep(rng.uniform(*profile.agent_think))
            suggestions = posted["suggestion"]["suggestions"]
            reply: dict[str, Any] = {"text": "亲,您好,马上为您处理哦", "message_id": posted["message"]["id"]}
            if suggestions:
                rank = rng.randint(1, len(suggestions))
                reply.update(text=suggestions[rank - 1]["text"], entry_id=suggestions[rank - 1]["id"], rank=rank, suggested_text=suggestions[rank - 1]["text"])
            status, sent = await rec.call(http, "post reply (feedback)", "POST", f"{base}/api/conversations/{conversation}/replies", json=reply)
            if status == 201:
                rec.feedback_acknowledged += sent["feedback"]
            if rng.random() < 0.3:
                await rec.call(http, "get suggest", "GET", f"{base}/api/suggest", params={"q": rng.choice(texts), "conversation_id": conversation})
            if rng.random() < 0.2:
                status, _ = await rec.call(http, "post feedback", "POST", f"{base}/api/feedback",
                                           json={"conversation_id": conversation, "message_id": posted["message"]["id"], "event": "ignored", "entry_id": "x", "rank": 3})
                rec.feedback_acknowledged += status == 201
        chat += 1


async def editor(http: Any, base: str, n: int, until: float, rec: Recorder, profile: Profile) -> None:
    rng = random.Random(1000 + n)
    round_ = 0
    while time.monotonic() < until:
        entry = {"intent": "price", "tags": ["压测"], "questions": [f"第{n}号编辑的第{round_}个问题可以分期吗", f"编辑{n}-{round_}能不能分期"],
                 "answer": f"亲,第{round_}款支持分期哦~", "allow_similar": True}
        status, created = await rec.call(http, "create entry", "POST", f"{base}/api/kb/entries", json=entry)
        if status == 201:
            entry_id, version = created["entry"]["id"], created["entry"]["version"]
            status, approved = await rec.call(http, "approve", "POST", f"{base}/api/kb/entries/{entry_id}/approve", json={"base_version": version})
            if status == 200:
                edit = {**entry, "answer": entry["answer"] + "(已更新)", "base_version": approved["entry"]["version"]}
                status, edited = await rec.call(http, "edit", "PUT", f"{base}/api/kb/entries/{entry_id}", json=edit)
                if status == 200:
                    await rec.call(http, "approve", "POST", f"{base}/api/kb/entries/{entry_id}/approve", json={"base_version": edited["entry"]["version"]})
        await rec.call(http, "list entries", "GET", f"{base}/api/kb/entries", params={"intent": "price"})
        round_ += 1
        await asyncio.sleep(rng.uniform(*profile.editor_pause))


async def run(base: str, token: str, agents: int, editors: int, seconds: float, profile: Profile) -> tuple[Recorder, float]:
    import aiohttp

    rec = Recorder()
    texts = buyer_messages()
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=agents + editors + 4)
    async with aiohttp.ClientSession(headers=headers, connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(*[agent(http, base, i, until, texts, rec, profile) for i in range(agents)],
                             *[editor(http, base, i, until, rec, profile) for i in range(editors)])
        return rec, time.monotonic() - started


def summary(rec: Recorder, elapsed: float, stored_feedback: int, agents: int, editors: int) -> dict[str, Any]:
    import numpy as np

    requests = sum(sum(s.values()) for s in rec.status.values())
    return {
        "agents": agents,
        "editors": editors,
        "seconds": round(elapsed, 1),
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1),
        "server_errors_5xx": sum(n for s in rec.status.values() for code, n in s.items() if code >= 500),
        "client_errors_4xx": {name: {str(c): n for c, n in s.items() if 400 <= c < 500} for name, s in rec.status.items() if any(400 <= c < 500 for c in s)},
        "feedback_acknowledged": rec.feedback_acknowledged,
        "feedback_stored": stored_feedback,
        "endpoints": {
            name: {"count": len(v), **{f"p{q}": round(float(np.percentile(v, q)), 1) for q in (50, 95, 99)}}
            for name, v in sorted(rec.latency.items())
        },
        "client_error_samples": rec.client_error_samples,
        "errors": rec.errors[:20],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--editors", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=None, help="default: 60 for stress, 600 for realistic")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="stress")
    parser.add_argument("--postgres", action="store_true", help="run on a PostgreSQL server started for the run (Debian's postgresql)")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    profile = PROFILES[args.profile]
    seconds = args.seconds or profile.seconds
    with contextlib.ExitStack() as stack:
        if args.postgres:
            from bot.errors import BotError
            from bot.throwaway_pg import fresh_database, postgres_server

            try:
                admin = stack.enter_context(postgres_server())
            except BotError as exc:  # no server binaries here, or it did not start
                raise SystemExit(f"--postgres: {exc}")
            os.environ["BOT_DB"] = fresh_database(admin, "load")
        result = measure(args.model, args.agents, args.editors, seconds, profile)
    result.update(profile=args.profile, database="postgresql" if args.postgres else "sqlite")
    out = OUT.with_name("load" + ("" if args.profile == "stress" else f"_{args.profile}") + ("_postgres" if args.postgres else "") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "errors"}, ensure_ascii=False, indent=2))
    print(f"wrote {out}")


def measure(model: Path | None, agents: int, editors: int, seconds: float, profile: Profile) -> dict[str, Any]:
    import sqlalchemy as sa

    from bot.db import connect

    with running_server(model) as server:
        rec, elapsed = asyncio.run(run(server.base, server.token, agents, editors, seconds, profile))
        with connect(server.db_url).connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM feedback WHERE event != 'shown' AND event != 'abstained' AND conversation_id LIKE 'load-%'")).scalar_one()
    return summary(rec, elapsed, int(stored), agents, editors)


if __name__ == "__main__":
    main()
