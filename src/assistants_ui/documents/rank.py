"""Ranked lists fused, and vectors searched exactly.

`fuse` is reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009): each
list gives an item 1 / (k + its rank), summed over the lists, so lexical and
vector hits rank together without comparing their scores. `VectorIndex` is
an exact cosine search over float32 vectors kept in the database, in numpy
(docs/documents.md, "Vectors": why exact, and why not sqlite-vec or an HNSW
library at these sizes).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np

__all__ = ["RRF_K", "VectorIndex", "from_blob", "fuse", "to_blob"]

RRF_K = 60
_T = TypeVar("_T", bound=Hashable)


def fuse(*ranked: Sequence[_T], k: int = RRF_K) -> list[tuple[_T, float]]:
    """Items of the ranked lists (best first) by summed 1 / (k + rank), best first."""
    scores: dict[_T, float] = {}
    for items in ranked:
        for rank, item in enumerate(items, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)


def to_blob(vector: Sequence[float]) -> bytes:
    """A vector as the database keeps it: float32, little-endian."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


class VectorIndex:
    """Vectors (normalised once) and their ids; `search` is exact cosine similarity."""

    def __init__(self, ids: Sequence[int], blobs: Sequence[bytes], dimensions: int) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dimensions)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.matrix = matrix / np.where(norms == 0, 1, norms)
        self.dimensions = dimensions

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: Sequence[float], limit: int) -> list[tuple[int, float]]:
        """The `limit` nearest ids and their cosine similarity, nearest first."""
        if not len(self.ids):
            return []
        q = np.asarray(query, dtype=np.float32)
        norm = float(np.linalg.norm(q))
        if norm == 0:
            return []
        scores = self.matrix @ (q / norm)
        limit = min(limit, len(scores))
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top])]
        return [(int(self.ids[i]), float(scores[i])) for i in top]
