"""Checks by type name: a dict that refuses duplicates, and the union that validates configs.

Which checks exist is the catalogs' business (`catalog.py` for the built-ins,
`custom/catalog.py` for yours); this module never changes when a check is added.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from app.ai.guardrails.base import Guardrail, GuardrailConfig
from app.core.errors import UnprocessableError


class DuplicateGuardrailError(ValueError):
    """Two checks under one type would make an agent's config ambiguous."""


class GuardrailRegistry:
    """The checks a process offers, looked up by the `type` an agent's config names."""

    def __init__(self, checks: Iterable[type[Guardrail[Any]]] = ()) -> None:
        self._checks: dict[str, type[Guardrail[Any]]] = {}
        self._adapter: TypeAdapter[list[GuardrailConfig]] | None = None
        for check in checks:
            self.register(check)

    def register(self, check: type[Guardrail[Any]]) -> None:
        """Add a check class; its type name must not be taken."""
        name = check.type_name()
        if name in self._checks:
            raise DuplicateGuardrailError(f"A guardrail of type {name!r} is already registered")
        self._checks[name] = check
        self._adapter = None

    def check_class(self, name: str) -> type[Guardrail[Any]]:
        """The class registered under a type name that `parse` accepted."""
        return self._checks[name]

    def names(self) -> list[str]:
        """Registered type names, in registration order."""
        return list(self._checks)

    def parse(self, raw: Sequence[Mapping[str, Any]]) -> list[GuardrailConfig]:
        """An agent's list of checks, each validated by its own type's config model.

        Raises:
            UnprocessableError: an unknown type or a bad option, naming which entry.
        """
        try:
            return self._union().validate_python(list(raw))
        except ValidationError as exc:
            problems = "; ".join(
                f"guardrails.{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                for error in exc.errors(include_url=False)
            )
            raise UnprocessableError(problems) from None

    def dump(self, configs: Sequence[GuardrailConfig]) -> list[dict[str, Any]]:
        """Configs as stored on the agent: plain JSON, defaults filled in."""
        return [config.model_dump(mode="json") for config in configs]

    def build(self, raw: Sequence[Mapping[str, Any]]) -> list[Guardrail[Any]]:
        """The checks an agent's stored config describes, ready to run."""
        return [self._checks[config.type](config) for config in self.parse(raw)]

    def _union(self) -> TypeAdapter[list[GuardrailConfig]]:
        """One discriminated union over every registered check's config, on `type`."""
        if self._adapter is None:
            configs = tuple(check.config for check in self._checks.values())
            member: Any = configs[0] if len(configs) == 1 else Union[configs]  # noqa: UP007
            self._adapter = TypeAdapter(list[Annotated[member, Field(discriminator="type")]])
        return self._adapter
