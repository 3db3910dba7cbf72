"""Baseline: Rasa's own ResponseSelector trained on the same KB (retrieval intents), with the engine's suggest() shape."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from bot.context import ContextLike
from bot.kb import KBContent
from bot.kb.template import fill
from bot.nlu import IntentScore, complete_sync, quiet_rasa
from bot.suggestion import Reply, Suggestion, check_message


def _retrieval_key(entry_id: str) -> str:
    intent, _, slug = entry_id.partition(".")
    return f"{intent}/{slug.replace('.', '__')}"


def _entry_id(key: str) -> str:
    intent, _, slug = key.partition("/")
    return f"{intent}.{slug.replace('__', '.')}"


def write_project(kb: KBContent, dict_dir: Path, out: Path, epochs: int) -> None:
    """A Rasa project whose NLU data are the KB's questions as retrieval intents `<intent>/<entry>`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    entries = kb.approved()
    config = {
        "recipe": "default.v1",
        "language": "zh",
        "pipeline": [
            {"name": "JiebaTokenizer", "dictionary_path": str(dict_dir.resolve())},
            {"name": "CountVectorsFeaturizer"},
            {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3},
            {"name": "DIETClassifier", "epochs": epochs, "random_seed": 42, "entity_recognition": False, "constrain_similarities": True},
            {"name": "ResponseSelector", "epochs": epochs, "random_seed": 42, "constrain_similarities": True},
        ],
        "policies": [],
    }
    (out / "config.yml").write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
    intents = sorted({e.intent for e in entries})
    domain = {
        "version": "3.1",
        "intents": intents,
        "responses": {f"utter_{_retrieval_key(e.id)}": [{"text": fill(e.answer, kb.shop).text}] for e in entries},
    }
    (out / "domain.yml").write_text(json.dumps(domain, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = ['version: "3.1"', "nlu:"]
    for entry in entries:
        lines += [f"- intent: {_retrieval_key(entry.id)}", "  examples: |"]
        lines += [f"    - {json.dumps(q, ensure_ascii=False)[1:-1]}" for q in entry.questions]
    (out / "data" / "nlu.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def train(kb: KBContent, dict_dir: Path, work_dir: Path, epochs: int = 60) -> Path:
    """Train (or reuse, when the KB and epochs are unchanged) the ResponseSelector model; returns its archive."""
    fingerprint = hashlib.sha256(
        json.dumps([[e.id, e.intent, list(e.questions), e.answer] for e in kb.approved()] + [epochs, kb.shop], ensure_ascii=False).encode()
    ).hexdigest()[:16]
    model = work_dir / "models" / f"rs-{fingerprint}.tar.gz"
    if model.exists():
        return model
    quiet_rasa()
    from rasa.model_training import train_nlu

    project = work_dir / "project"
    write_project(kb, dict_dir, project, epochs)
    path = train_nlu(config=str(project / "config.yml"), nlu_data=str(project / "data"), output=str(work_dir / "models"),
                     domain=str(project / "domain.yml"), fixed_model_name=f"rs-{fingerprint}")
    return Path(path or model)


class ResponseSelectorEngine:
    """Scores every response of the KB for each message, as Rasa's ResponseSelector does."""

    def __init__(self, model_path: Path, kb: KBContent, max_message_chars: int = 1000) -> None:
        quiet_rasa()
        from rasa.core.agent import Agent

        self._agent = Agent.load(str(model_path))
        self._kb = kb
        self._entries = {e.id: e for e in kb.approved()}
        self._max_chars = max_message_chars

    def suggest(self, message: str, context: ContextLike = None, k: int = 3) -> Suggestion:
        text = check_message(message, self._max_chars)
        result: dict[str, Any] = complete_sync(self._agent.parse_message(text))
        ranking = tuple(IntentScore(str(i["name"]), float(i["confidence"])) for i in result.get("intent_ranking") or ())
        intent = ranking[0] if ranking else IntentScore("out_of_scope", 0.0)
        selector = (result.get("response_selector") or {}).get("default") or {}
        replies = []
        for candidate in selector.get("ranking") or ():
            entry = self._entries.get(_entry_id(str(candidate.get("intent_response_key", ""))))
            if entry is None:
                continue
            replies.append(Reply.of(entry, candidate["confidence"], "", self._kb.shop))
            if len(replies) == k:
                break
        return Suggestion(intent, ranking, tuple(replies), abstained=not replies, reason=None if replies else "no response selected")
