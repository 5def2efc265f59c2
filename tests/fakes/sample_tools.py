"""Function tools the backend tests name by import path (`fakes.sample_tools:...`)."""

from __future__ import annotations

from typing import Literal

__all__ = ["explode", "get_weather"]


def get_weather(city: str, unit: Literal["c", "f"] = "c") -> dict[str, object]:
    """The current weather in a city.

    Only used by tests: always mild.
    """
    return {"city": city, "temperature": 21 if unit == "c" else 70, "unit": unit}


def explode(reason: str) -> str:
    """A tool that always fails, to show what the user and the model see."""
    raise RuntimeError(f"boom: {reason}")
