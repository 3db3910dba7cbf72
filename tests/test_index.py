"""The index persists beside the KB and is rebuilt only when the KB or the encoder changed."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.encoder import Encoder, resolve_encoder
from bot.index import KBIndex, open_index
from bot.kb import KBContent


@pytest.fixture(scope="module")
def content(engine) -> KBContent:  # type: ignore[no-untyped-def]
    return engine.store.load()


def test_reused_when_nothing_changed(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first, built = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    assert built
    second, built_again = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    assert not built_again
    assert second.fingerprint == first.fingerprint
    assert second.search("包邮吗", 3)[0].entry.id == first.search("包邮吗", 3)[0].entry.id
    assert [p.name for p in tmp_path.iterdir()] == [first.fingerprint]


def test_rebuilt_when_an_answer_or_the_shop_changes(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _ = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    edited = replace(content, entries=tuple(replace(e, answer=e.answer + "~") if i == 0 else e for i, e in enumerate(content.entries)))
    changed, built = open_index(edited, engine.encoder, engine.settings.index, tmp_path)
    assert built and changed.fingerprint != base.fingerprint
    shop = replace(content, shop={**content.shop, "courier": "圆通快递"})
    _, built = open_index(shop, engine.encoder, engine.settings.index, tmp_path)
    assert built
    assert len(list(tmp_path.iterdir())) == 1, "old index directories are removed"


def test_drafts_do_not_change_the_index(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _ = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    draft = next(e for e in content.entries if e.status == "draft")
    edited = replace(content, entries=tuple(replace(e, answer="改过的草稿") if e.id == draft.id else e for e in content.entries))
    _, built = open_index(edited, engine.encoder, engine.settings.index, tmp_path)
    assert not built


def test_rebuilt_when_the_encoder_changes(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, _ = open_index(content, engine.encoder, engine.settings.index, tmp_path / "index")
    other_dir = tmp_path / "my-encoder"
    shutil.copytree(resolve_encoder("m3e-small"), other_dir)
    other = Encoder(other_dir)
    assert other.fingerprint != engine.encoder.fingerprint
    _, built = open_index(content, other, engine.settings.index, tmp_path / "index")
    assert built


def test_a_damaged_index_is_rebuilt_not_trusted(engine, content: KBContent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index, _ = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    (tmp_path / index.fingerprint / "dense.faiss").write_bytes(b"truncated")
    again, built = open_index(content, engine.encoder, engine.settings.index, tmp_path)
    assert built
    assert again.search("是正品吗", 1)[0].entry.intent == "authenticity"


def test_search_fuses_dense_and_lexical(engine) -> None:  # type: ignore[no-untyped-def]
    hits = engine.index.search("偏远地区运费多少", 5)
    assert hits[0].entry.id == "shipping_fee.remote_areas"
    top = hits[0]
    weights = engine.settings.index
    assert top.score == pytest.approx(weights.dense_weight * top.dense + weights.lexical_weight * top.lexical, abs=1e-5)
    assert 0 <= top.lexical <= 1 and -1 <= top.dense <= 1
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.entry.id for h in hits}) == len(hits)


def test_empty_kb_gives_no_hits(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index = KBIndex.build(KBContent(shop={}, entries=()), engine.encoder, engine.settings.index, "empty")
    assert index.search("包邮吗", 3) == []
