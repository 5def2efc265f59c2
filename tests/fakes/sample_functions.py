"""Function tools for tests, named in profiles as `fakes.sample_functions:NAME`."""

from __future__ import annotations

__all__ = ["broken_sensor", "get_weather"]


def get_weather(city: str) -> str:
    """The weather in a city right now."""
    return f"Sunny in {city} (22 °C)"


def broken_sensor(city: str) -> str:
    """A function that always fails."""
    raise RuntimeError(f"the sensor in {city} is offline")
