"""Validation of what the fake server sends against OpenAI's published OpenAPI document.

The document (`openapi.json.gz`, MIT, see SOURCE.md) is a copy of
`../shared/openai-openapi/openapi.json`; `tests/unit/test_openapi_copy.py`
checks that the copy matches whenever the shared file is present.

It is OpenAPI 3.1 but still marks optional values with the 3.0 keyword
`nullable: true`; `_nullable_to_jsonschema` rewrites those into JSON Schema
(`type: [X, "null"]`) so that a plain 2020-12 validator reads it correctly.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["SPEC_FILE", "SchemaError", "schema_names", "validate"]

SPEC_FILE = Path(__file__).with_name("openapi.json.gz")
_URI = "urn:openai:openapi"


class SchemaError(AssertionError):
    """A payload the fake server sent does not match OpenAI's schema."""


def _nullable_to_jsonschema(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable_to_jsonschema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable_to_jsonschema(v) for k, v in node.items()}
    if out.pop("nullable", False):
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif isinstance(out.get("type"), list):
            if "null" not in out["type"]:
                out["type"] = [*out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _document() -> dict[str, Any]:
    with gzip.open(SPEC_FILE, "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    doc: dict[str, Any] = _nullable_to_jsonschema(raw)
    return doc


@cache
def _registry() -> Registry:  # type: ignore[type-arg]
    resource = Resource.from_contents(_document(), default_specification=DRAFT202012)
    return Registry().with_resource(_URI, resource)


@cache
def _validator(name: str) -> Draft202012Validator:
    if name not in _document()["components"]["schemas"]:
        raise KeyError(f"no schema named {name!r} in the OpenAPI document")
    schema = {"$ref": f"{_URI}#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=_registry())


def schema_names() -> set[str]:
    return set(_document()["components"]["schemas"])


def validate(name: str, payload: Any) -> None:
    """Raise `SchemaError` listing every mismatch between `payload` and schema `name`."""
    errors = sorted(_validator(name).iter_errors(payload), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [
            f"  at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:300]}"
            for e in errors[:10]
        ]
        raise SchemaError(f"payload does not match {name}:\n" + "\n".join(lines))
