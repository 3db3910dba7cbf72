"""The `bot` command: thin commands, one-line errors, and light imports for the light commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bot.cli import _run, cli

PROJECT = Path(__file__).resolve().parents[1]
BOT = str(Path(sys.executable).parent / "bot")


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BOT_DATA_DIR": str(tmp_path / "var"), "HF_HUB_OFFLINE": "1"}


def test_help_and_kb_commands_do_not_load_heavy_libraries(tmp_path: Path) -> None:
    code = (
        "import sys; from bot.cli import cli\n"
        "for args in (['--help'], ['kb', 'import'], ['kb', 'list']):\n"
        "    try: cli(args, standalone_mode=False)\n"
        "    except SystemExit: pass\n"
        "heavy = [m for m in ('torch', 'tensorflow', 'faiss', 'rasa', 'sentence_transformers') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_kb_import_list_export(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(tmp_path)
    result = runner.invoke(cli, ["kb", "import"], env=env)
    assert result.exit_code == 0, result.output
    assert "imported" in result.output and "approved" in result.output
    listed = runner.invoke(cli, ["kb", "list", "--intent", "shipping_fee"], env=env)
    assert "shipping_fee.free_threshold" in listed.output
    assert "price." not in listed.output
    out = tmp_path / "export"
    exported = runner.invoke(cli, ["kb", "export", str(out)], env=env)
    assert exported.exit_code == 0, exported.output
    assert (out / "shop.yml").exists() and (out / "entries" / "shipping_fee.yml").exists()


def test_errors_are_one_line_and_non_zero(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad"
    (bad / "entries").mkdir(parents=True)
    (bad / "shop.yml").write_text('shop_name: "x"\n', encoding="utf-8")
    (bad / "entries" / "price.yml").write_text("- id: price.a\n  intent: price\n", encoding="utf-8")
    out = subprocess.run([BOT, "kb", "import", str(bad)], cwd=PROJECT, env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr.startswith("error: knowledge base refused, nothing imported:")
    assert "price.yml:1: entry 1 (id price.a): missing field 'status'" in out.stderr
    assert "Traceback" not in out.stderr

    out = subprocess.run([BOT, "kb", "list", "--db", "nosuchdb://x"], cwd=PROJECT, env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_suggest_without_a_model_says_what_to_do(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for name in ("config.yml", "domain.yml", "bot.yml"):
        (tmp_path / name).write_bytes((PROJECT / name).read_bytes())
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("BOT_MODELS_DIR")  # the session's trained models are elsewhere; this project has none
    code = _run(lambda **kw: cli(["suggest", "包邮吗"], **kw))
    assert code == 1


def test_suggest_json_end_to_end(tmp_path: Path, trained_model: Path) -> None:
    env = _env(tmp_path)
    subprocess.run([BOT, "kb", "import"], cwd=PROJECT, env=env, check=True, capture_output=True, timeout=60)
    out = subprocess.run(
        [BOT, "suggest", "能包邮吗", "--json", "--model", str(trained_model)],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["intent"]["name"] == "shipping_fee"
    assert data["abstained"] is False and data["reason"] is None
    top = data["suggestions"][0]
    assert top["id"] == "shipping_fee.free_threshold"
    assert "99元包邮" in top["text"]
    assert set(top) >= {"id", "text", "score", "intent", "matched_question"}


def test_suggest_rejects_empty_text_in_one_line(tmp_path: Path, trained_model: Path) -> None:
    env = _env(tmp_path)
    subprocess.run([BOT, "kb", "import"], cwd=PROJECT, env=env, check=True, capture_output=True, timeout=60)
    out = subprocess.run([BOT, "suggest", "   ", "--model", str(trained_model)], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert out.stderr.strip() == "error: message is empty"


def test_kb_nlu_writes_what_kb_holds_and_never_an_empty_file(tmp_path: Path, project_copy: Path) -> None:
    project = project_copy
    generated = project / "data" / "nlu" / "kb_questions.yml"
    committed = generated.read_text(encoding="utf-8")
    env = {**_env(tmp_path), "BOT_PROJECT_DIR": str(project)}
    env.pop("BOT_DB", None)  # never the caller's database: this test turns its KB into drafts
    runner = CliRunner()

    # A fresh database: kb/ is imported first, so the file is what kb/ makes, not an empty one written over it.
    fresh = runner.invoke(cli, ["kb", "nlu"], env=env)
    assert fresh.exit_code == 0, fresh.output
    assert generated.read_text(encoding="utf-8") == committed

    # After editing kb/, the new phrasing is an NLU example at once.
    entries = project / "kb" / "entries" / "shipping_fee.yml"
    text = entries.read_text(encoding="utf-8")
    entries.write_text(text.replace("  - 包邮吗\n", "  - 包邮吗\n  - 这单能不能给包个邮呀\n", 1), encoding="utf-8")
    edited = runner.invoke(cli, ["kb", "nlu"], env=env)
    assert edited.exit_code == 0, edited.output
    assert "    - 这单能不能给包个邮呀\n" in generated.read_text(encoding="utf-8")

    # Another shop's questions never replace the file: one intent model serves every shop.
    other = subprocess.run([BOT, "kb", "nlu", "--shop", "common"], cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert other.returncode == 1 and "cannot write it" in other.stderr, other.stderr

    # A KB with nothing approved: a clear error, and the file stays as it was.
    for path in (project / "kb" / "entries").glob("*.yml"):
        path.write_text(path.read_text(encoding="utf-8").replace("status: approved", "status: draft"), encoding="utf-8")
    before = generated.read_text(encoding="utf-8")
    out = subprocess.run([BOT, "kb", "nlu"], cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert out.stderr.startswith("error: the KB has no approved entries: nothing written"), out.stderr
    assert generated.read_text(encoding="utf-8") == before
