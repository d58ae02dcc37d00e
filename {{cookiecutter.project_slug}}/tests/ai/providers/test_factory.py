"""The provider registry, catalog and factory: lookup by name, lazy building, clear errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.ai.providers.base import (
    Completion,
    CompletionRequest,
    Provider,
    StreamCompleted,
    StreamEvent,
)
from app.ai.providers.catalog import PROVIDERS, secret_text
from app.ai.providers.factory import ProviderFactory
from app.ai.providers.registry import (
    ProviderEntry,
    ProviderLoader,
    ProviderNotConfiguredError,
    ProviderRegistry,
    UnknownProviderError,
)
from app.ai.providers.scripted import ScriptedProvider
from app.core.config import Settings
from app.core.errors import UnprocessableError

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, environment="test")


class ClosingProvider(ScriptedProvider):
    """A scripted provider that remembers being closed, or fails to close on request."""

    name = "closing"

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.closed = False
        self.fail = fail

    async def aclose(self) -> None:
        self.closed = True
        if self.fail:
            raise RuntimeError("close failed")


def test_scripted_is_always_available(settings: Settings) -> None:
    factory = ProviderFactory(settings)

    assert "scripted" in factory.available()
    assert isinstance(factory.get("scripted"), ScriptedProvider)
    assert factory.default_model("scripted") == "scripted"


def test_each_provider_is_built_once(settings: Settings) -> None:
    builds: list[Settings] = []

    def load(given: Settings) -> Provider:
        builds.append(given)
        return ScriptedProvider()

    providers = ProviderRegistry([ProviderEntry("fake", load)])
    factory = ProviderFactory(settings, providers)

    assert factory.get("fake") is factory.get("fake")
    assert builds == [settings]


def test_nothing_is_built_until_asked_for(settings: Settings) -> None:
    providers = ProviderRegistry(
        [ProviderEntry("boom", lambda _settings: pytest.fail("built too early"))]
    )

    assert ProviderFactory(settings, providers).available() == ["boom"]


def test_unknown_name_is_a_422_naming_the_known_providers(settings: Settings) -> None:
    with pytest.raises(UnknownProviderError) as caught:
        ProviderFactory(settings).get("nope")

    assert isinstance(caught.value, UnprocessableError)
    assert caught.value.status_code == 422
    assert "'nope'" in caught.value.detail
    assert "scripted" in caught.value.detail


def test_unconfigured_provider_is_a_422_naming_what_to_set(settings: Settings) -> None:
    providers = ProviderRegistry(
        [
            ProviderEntry(
                "paid",
                lambda _settings: ScriptedProvider(),
                is_configured=lambda _settings: False,
                requires="PAID_API_KEY",
            )
        ]
    )
    factory = ProviderFactory(settings, providers)

    assert factory.available() == []
    with pytest.raises(ProviderNotConfiguredError) as caught:
        factory.get("paid")
    assert caught.value.status_code == 422
    assert "PAID_API_KEY" in caught.value.detail


def test_a_name_registers_once() -> None:
    providers = ProviderRegistry([ProviderEntry("mine", lambda _settings: ScriptedProvider())])

    with pytest.raises(ValueError, match="already registered"):
        providers.register(ProviderEntry("mine", lambda _settings: ScriptedProvider()))


def test_catalog_names_cannot_be_taken() -> None:
    providers = ProviderRegistry(PROVIDERS)
    with pytest.raises(ValueError, match="already registered"):
        providers.register(ProviderEntry("scripted", lambda _settings: ScriptedProvider()))


def test_the_factory_offers_the_whole_catalog_by_default(settings: Settings) -> None:
    names = [entry.name for entry in PROVIDERS]
    assert "scripted" in names
    assert len(set(names)) == len(names)
    configured = [entry.name for entry in PROVIDERS if entry.is_configured(settings)]
    assert ProviderFactory(settings).available() == configured


def test_a_key_is_read_as_text_or_empty() -> None:
    assert secret_text(SecretStr("sk-1")) == "sk-1"
    assert secret_text(None) == ""


def test_users_can_add_their_own_provider(settings: Settings) -> None:
    class EchoProvider(Provider):
        name = "echo"

        async def complete(self, request: CompletionRequest) -> Completion:
            return Completion(content=request.messages[-1].content, model=request.model)

        async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
            yield StreamCompleted(await self.complete(request))

    providers = ProviderRegistry(
        [
            ProviderEntry(
                "echo", lambda _settings: EchoProvider(), default_model=lambda _settings: "echo-1"
            )
        ]
    )
    factory = ProviderFactory(settings, providers)

    assert isinstance(factory.get("echo"), EchoProvider)
    assert factory.default_model("echo") == "echo-1"


async def test_aclose_closes_every_built_provider_even_if_one_fails(settings: Settings) -> None:
    built = {"good": ClosingProvider(), "bad": ClosingProvider(fail=True)}

    def loader(provider: Provider) -> ProviderLoader:
        return lambda _settings: provider

    providers = ProviderRegistry(
        ProviderEntry(name, loader(provider)) for name, provider in built.items()
    )
    factory = ProviderFactory(settings, providers)
    factory.get("bad")
    factory.get("good")

    await factory.aclose()

    assert built["good"].closed
    assert built["bad"].closed


def test_startup_imports_no_vendor_sdk() -> None:
    script = (
        "import sys\n"
        "import app.ai.providers\n"
        "from app.ai.providers.factory import ProviderFactory\n"
        "from app.core.config import Settings\n"
        "factory = ProviderFactory(Settings(_env_file=None))\n"
        "factory.available()\n"
        "factory.get('scripted')\n"
        "loaded = {'openai', 'anthropic', 'google.genai'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, check=True)  # noqa: S603
