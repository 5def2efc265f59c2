"""Function tools: the operator's Python callables, offered to the model.

A profile lists functions by import path (`"my_pkg.tools:get_weather"`) or by
the name another package registered in the `assistants_ui.tools` entry-point
group. The JSON schema the model sees is derived from the function's type
hints by pydantic; its docstring's first paragraph is the description.

`FunctionTool.call(arguments_json)` validates the model's arguments against
the same signature and returns text for the model. It never raises: malformed
arguments and exceptions inside the function come back as an error string
(and `ok=False`) so that the answer can continue and the user can see what
happened.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError, create_model

__all__ = [
    "ENTRY_POINT_GROUP",
    "FunctionTool",
    "ToolLoadError",
    "ToolResult",
    "load_functions",
    "parse_arguments",
    "timed_out",
]

ENTRY_POINT_GROUP = "assistants_ui.tools"


class ToolLoadError(Exception):
    """A function named in a profile cannot be loaded; the message says why."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    output: str
    ok: bool


def timed_out(name: str, seconds: float, setting: str) -> ToolResult:
    """A call that did not finish in time (a function, or an MCP server's tool)."""
    return ToolResult(
        f"Error: {name} did not finish within {seconds:g} s ({setting}); "
        "the answer goes on without its result.",
        False,
    )


def parse_arguments(arguments: str) -> dict[str, Any] | ToolResult:
    """The model's JSON arguments as an object, or the error to tell it."""
    try:
        raw = json.loads(arguments or "{}")
        if not isinstance(raw, dict):
            raise ValueError("arguments must be a JSON object")
    except ValueError as exc:
        return ToolResult(f"Error: the arguments are not valid JSON ({exc}).", False)
    return raw


@dataclass(frozen=True)
class FunctionTool:
    name: str
    description: str
    parameters: dict[str, Any]
    func: Callable[..., Any]
    source: str

    @classmethod
    def from_callable(cls, func: Callable[..., Any], source: str = "") -> FunctionTool:
        try:  # modules with `from __future__ import annotations` hold hints as strings
            sig = inspect.signature(func, eval_str=True)
        except (NameError, TypeError):
            sig = inspect.signature(func)
        fields: dict[str, Any] = {}
        for pname, param in sig.parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            annotation = Any if param.annotation is inspect.Parameter.empty else param.annotation
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[pname] = (annotation, default)
        model = create_model(f"{func.__name__}_args", **fields)
        schema = model.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        schema.setdefault("properties", {})
        schema["additionalProperties"] = False
        doc = inspect.getdoc(func) or ""
        description = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
        tool = cls(func.__name__, description, schema, func, source or func.__qualname__)
        object.__setattr__(tool, "_model", model)
        return tool

    def call(self, arguments: str) -> ToolResult:
        """Run the function with the model's JSON arguments; errors become text."""
        raw = parse_arguments(arguments)
        if isinstance(raw, ToolResult):
            return raw
        model = getattr(self, "_model")  # noqa: B009 - set in from_callable
        try:
            args = model.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(x) for x in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors()
            )
            return ToolResult(f"Error: invalid arguments for {self.name}: {problems}.", False)
        try:
            result = self.func(**{k: getattr(args, k) for k in type(args).model_fields})
        except Exception as exc:
            return ToolResult(f"Error: {self.name} raised {type(exc).__name__}: {exc}", False)
        text = result if isinstance(result, str) else json.dumps(result, default=str)
        return ToolResult(text, True)


def _resolve(spec: str) -> Callable[..., Any]:
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise ToolLoadError(
                f"function {spec!r}: module {module_name!r} does not import "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        target: Any = module
        for part in attr.split("."):
            target = getattr(target, part, None)
            if target is None:
                raise ToolLoadError(f"function {spec!r}: {module_name!r} has no {attr!r}")
    else:
        matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == spec]
        if not matches:
            raise ToolLoadError(
                f"function {spec!r}: not an import path (module:function) and no installed "
                f"package registers it in the {ENTRY_POINT_GROUP!r} entry-point group"
            )
        try:
            target = matches[0].load()
        except Exception as exc:
            raise ToolLoadError(
                f"function {spec!r}: its entry point fails to load ({exc})"
            ) from exc
    if not callable(target):
        raise ToolLoadError(f"function {spec!r} is not callable")
    func: Callable[..., Any] = target
    return func


def load_functions(specs: Iterable[str]) -> list[FunctionTool]:
    """Load every function named in a profile, or raise `ToolLoadError` for the first bad one."""
    tools: list[FunctionTool] = []
    seen: set[str] = set()
    for spec in specs:
        tool = FunctionTool.from_callable(_resolve(spec), spec)
        if tool.name in seen:
            raise ToolLoadError(f"function {spec!r}: two functions are named {tool.name!r}")
        seen.add(tool.name)
        tools.append(tool)
    return tools
