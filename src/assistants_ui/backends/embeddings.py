"""Vectors for document search, from the connection's `/v1/embeddings`.

A profile's `embedding_model` names the model; nothing is downloaded, so a
connection that does not serve embeddings means lexical search only. Every
failure is an `EmbeddingError` sentence (the server down, a refusal, an
answer without vectors): the caller keeps searching by words and says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import openai

from assistants_ui.backends.clients import client_for, describe_error
from assistants_ui.core.documents import EmbeddingError
from assistants_ui.i18n import _
from assistants_ui.profiles import Connection

__all__ = ["ConnectionEmbedder"]


class ConnectionEmbedder:
    """`embed(texts)` through the official SDK on one connection and model."""

    def __init__(self, connection: Connection, model: str) -> None:
        self.connection = connection
        self._model = model

    @property
    def model(self) -> str:
        return self._model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        what = _("the embedding model %(model)s") % {"model": repr(self._model)}
        try:
            answer = client_for(self.connection).embeddings.create(
                model=self._model, input=list(texts), encoding_format="float"
            )
        except openai.OpenAIError as exc:
            raise EmbeddingError(describe_error(exc, self.connection, what=what).reason) from exc
        data = sorted(answer.data or [], key=lambda d: d.index)
        vectors = [list(d.embedding) for d in data]
        if len(vectors) != len(texts) or not all(
            isinstance(v, list) and v and all(isinstance(x, int | float) for x in v)
            for v in vectors
        ):
            raise EmbeddingError(
                _("%(what)s returned %(got)s vectors for %(sent)s texts")
                % {"what": what, "got": len(vectors), "sent": len(texts)}
            )
        return vectors
