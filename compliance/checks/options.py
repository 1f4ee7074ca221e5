"""Typed options of rule types, checked when a pack loads rather than when a rule runs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Option:
    kind: type | tuple[type, ...]
    default: Any = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""

    def validate(self, name: str, value: Any) -> Any:
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise ValueError(f"option '{name}' must be {_describe(kinds)}, not {value!r}")
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if list in kinds and isinstance(value, str):
            value = [value]
        if not isinstance(value, kinds):
            raise ValueError(f"option '{name}' must be {_describe(kinds)}, not {value!r}")
        if self.minimum is not None and value < self.minimum or self.maximum is not None and value > self.maximum:
            bound = f"at least {self.minimum}" if self.maximum is None else f"from {self.minimum} to {self.maximum}"
            raise ValueError(f"option '{name}' must be {bound}, not {value!r}")
        return value


def _describe(kinds: tuple[type, ...]) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
