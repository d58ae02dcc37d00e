"""Google Gemini through google-genai (google-generativeai is end-of-life)."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import httpx2
from google import genai
from google.genai import errors, types

from app.ai.providers.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    FinishReason,
    Provider,
    ProviderError,
    ProviderErrorKind,
    Role,
    StreamCompleted,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
    bad_response,
    count_field,
    incomplete,
    reading,
    retry_after_seconds,
    text_field,
)

DEFAULT_EMBEDDING_MODEL = "gemini-embedding-001"
NAME = "gemini"

# Google's documented stand-in for a function call whose thought signature was lost (for
# example history reloaded from the database); Gemini 3 rejects a replayed call without one.
SKIP_SIGNATURE = b"skip_thought_signature_validator"
_SIGNATURE_MEMORY = 1024

# What a call can raise besides ProviderError: API errors, httpx2's own errors (the SDK passes
# them through), and ValueErrors for a reply the SDK could not parse or validate.
FAILURES = (errors.APIError, httpx2.RequestError, ValueError)
# google.rpc.RetryInfo in an error's details says how long a rate limit lasts.
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"

_CONTENT_FILTERED = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "MODEL_ARMOR",
    }
)
_MALFORMED = frozenset(
    {
        "MALFORMED_FUNCTION_CALL",
        "UNEXPECTED_TOOL_CALL",
        "MALFORMED_RESPONSE",
        "MISSING_THOUGHT_SIGNATURE",
    }
)


class GeminiProvider(Provider):
    """Gemini models with function declarations; one httpx2 client carries every call."""

    name = NAME

    def __init__(
        self,
        *,
        api_key: str,
        timeout: float,
        max_retries: int,
        http_client: httpx2.AsyncClient | None = None,
        embedding_model: str = DEFAULT_EMBEDDING_MODEL,
    ) -> None:
        # Handing the SDK our own client keeps it on httpx2 even when aiohttp is installed,
        # so failures always surface as the exceptions mapped below.
        self._http = http_client or httpx2.AsyncClient()
        self._client = genai.Client(
            # The Gemini Developer API, whatever GOOGLE_GENAI_USE_VERTEXAI says.
            vertexai=False,
            api_key=api_key,
            http_options=types.HttpOptions(
                timeout=int(timeout * 1000),
                retry_options=types.HttpRetryOptions(attempts=max_retries + 1),
                httpx_async_client=self._http,
            ),
        )
        self._embedding_model = embedding_model
        # Thought signatures by tool call id, so a tool loop replays the model's own.
        self._signatures: OrderedDict[str, bytes] = OrderedDict()

    async def complete(self, request: CompletionRequest) -> Completion:
        """One whole reply, read and checked before anything of it is trusted."""
        contents, config = self._contents(request), _config(request)
        try:
            response = await self._client.aio.models.generate_content(
                model=request.model, contents=contents, config=config
            )
        except FAILURES as exc:
            raise map_error(exc) from exc
        state = _ReplyState(model=request.model, streamed=False)
        with reading(self.name):
            state.absorb(response)
            return self._finish(state)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        """Text as it arrives, then the assembled reply once a finish reason has come."""
        contents, config = self._contents(request), _config(request)
        state = _ReplyState(model=request.model, streamed=True)
        try:
            chunks = await self._client.aio.models.generate_content_stream(
                model=request.model, contents=contents, config=config
            )
            async for chunk in chunks:
                with reading(self.name):
                    text = state.absorb(chunk)
                if text:
                    yield TextDelta(text)
        except FAILURES as exc:
            raise map_error(exc) from exc
        with reading(self.name):
            completion = self._finish(state)
        yield StreamCompleted(completion)

    async def embed(self, texts: list[str], *, model: str | None = None) -> list[list[float]]:
        """One vector per text, or a bad response when the server returns fewer."""
        try:
            response = await self._client.aio.models.embed_content(
                model=model or self._embedding_model,
                contents=list(texts),
            )
        except FAILURES as exc:
            raise map_error(exc) from exc
        with reading(self.name):
            vectors = [list(embedding.values or ()) for embedding in response.embeddings or ()]
        if len(vectors) != len(texts):
            raise bad_response(self.name, f"asked for {len(texts)} embeddings, got {len(vectors)}")
        return vectors

    async def aclose(self) -> None:
        """Close the SDK's clients and the httpx2 client under them."""
        await self._client.aio.aclose()
        self._client.close()
        await self._http.aclose()

    def _finish(self, state: _ReplyState) -> Completion:
        completion = state.completion()
        for call_id, signature in state.signatures.items():
            self._signatures[call_id] = signature
            self._signatures.move_to_end(call_id)
        while len(self._signatures) > _SIGNATURE_MEMORY:
            self._signatures.popitem(last=False)
        return completion

    def _contents(self, request: CompletionRequest) -> list[types.Content]:
        return to_gemini_contents(
            request.messages, self._signatures, needs_signatures=_signs_calls(request.model)
        )


@dataclass(slots=True)
class _ReplyState:
    """Responses (one, or a stream of chunks) folded into one reply."""

    model: str
    streamed: bool
    text: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    signatures: dict[str, bytes] = field(default_factory=dict)
    finish: str | None = None
    usage: Usage | None = None
    answered: bool = False

    def absorb(self, response: types.GenerateContentResponse) -> str:
        """Fold one response in and return its new text, if any."""
        self.model = _text(response.model_version) or self.model
        if (meta := response.usage_metadata) is not None:
            self.usage = Usage(
                input_tokens=_count(meta.prompt_token_count),
                # Thinking tokens are billed as output.
                output_tokens=_count(meta.candidates_token_count)
                + _count(meta.thoughts_token_count),
            )
        if not response.candidates:
            if response.prompt_feedback and response.prompt_feedback.block_reason:
                self.answered = True
                self.finish = "SAFETY"
            return ""
        self.answered = True
        candidate = response.candidates[0]
        if candidate.finish_reason is not None:
            self.finish = str(getattr(candidate.finish_reason, "value", candidate.finish_reason))
        if candidate.content is None:
            if candidate.finish_reason is None:
                raise bad_response(NAME, "candidate has neither content nor a finish reason")
            return ""
        text: list[str] = []
        for part in candidate.content.parts or ():
            if part.function_call is not None:
                self.calls.append(self._call(part))
            elif part.text and not part.thought:
                text.append(part.text)
        self.text.extend(text)
        return "".join(text)

    def completion(self) -> Completion:
        """The reply; a stream counts only once a finish reason has arrived."""
        if not self.answered and not self.streamed:
            raise bad_response(NAME, "reply has no candidates")
        if self.streamed and self.finish is None:
            raise incomplete(NAME)
        if self.usage is None:
            raise bad_response(NAME, "reply has no usage metadata")
        if self.finish in _MALFORMED:
            raise bad_response(NAME, f"model produced an unusable reply ({self.finish})")
        if self.calls:
            reason = FinishReason.TOOL_CALLS
        elif self.finish == "MAX_TOKENS":
            reason = FinishReason.LENGTH
        elif self.finish in _CONTENT_FILTERED:
            reason = FinishReason.CONTENT_FILTER
        else:
            reason = FinishReason.STOP
        return Completion(
            content="".join(self.text),
            model=self.model,
            usage=self.usage,
            finish_reason=reason,
            tool_calls=tuple(self.calls),
        )

    def _call(self, part: types.Part) -> ToolCall:
        call = part.function_call
        name = _text(call.name if call else None)
        if call is None or not name:
            raise bad_response(NAME, "function call has no name")
        call_id = call.id or f"call_{uuid.uuid4().hex[:24]}"
        if part.thought_signature:
            self.signatures[call_id] = part.thought_signature
        # Gemini sends arguments as a JSON object, checked by the SDK, never as text.
        return ToolCall(id=call_id, name=name, arguments=call.args or {})


def to_gemini_contents(
    messages: Iterable[ChatMessage],
    signatures: dict[str, bytes] | None = None,
    *,
    needs_signatures: bool = True,
) -> list[types.Content]:
    """Turns as Gemini contents: the model speaks as "model", tool results as user parts.

    Consecutive turns of one role are merged, so all results of one tool round travel
    together as Gemini expects.
    """
    signatures = signatures or {}
    names: dict[str, str] = {}
    contents: list[types.Content] = []
    for message in messages:
        parts: list[types.Part] = []
        role = "model" if message.role is Role.ASSISTANT else "user"
        match message.role:
            case Role.SYSTEM:
                continue
            case Role.USER:
                if message.content:
                    parts.append(types.Part(text=message.content))
            case Role.ASSISTANT:
                if message.content:
                    parts.append(types.Part(text=message.content))
                parts.extend(_call_parts(message, signatures, needs_signatures))
                names.update({call.id: call.name for call in message.tool_calls})
            case Role.TOOL:
                call_id = message.tool_call_id or ""
                parts.append(
                    types.Part(
                        function_response=types.FunctionResponse(
                            id=call_id or None,
                            name=message.name or names.get(call_id, ""),
                            response={"result": message.content},
                        )
                    )
                )
        if not parts:
            continue
        if contents and contents[-1].role == role and contents[-1].parts is not None:
            contents[-1].parts.extend(parts)
        else:
            contents.append(types.Content(role=role, parts=parts))
    return contents


def _call_parts(
    message: ChatMessage, signatures: dict[str, bytes], needs_signatures: bool
) -> list[types.Part]:
    parts = [
        types.Part(
            function_call=types.FunctionCall(id=call.id, name=call.name, args=call.arguments),
            thought_signature=signatures.get(call.id),
        )
        for call in message.tool_calls
    ]
    # Of parallel calls only the first carries a signature; stand in for it when it was lost.
    if needs_signatures and parts and not any(part.thought_signature for part in parts):
        parts[0].thought_signature = SKIP_SIGNATURE
    return parts


def _config(request: CompletionRequest) -> types.GenerateContentConfig:
    system = "\n\n".join(
        message.content
        for message in request.messages
        if message.role is Role.SYSTEM and message.content
    )
    tools = (
        [
            types.Tool(
                function_declarations=[
                    types.FunctionDeclaration(
                        name=tool.name,
                        description=tool.description,
                        parameters_json_schema=tool.parameters,
                    )
                    for tool in request.tools
                ]
            )
        ]
        if request.tools
        else None
    )
    return types.GenerateContentConfig(
        system_instruction=system or None,
        tools=tools,
        temperature=request.temperature,
        max_output_tokens=request.max_tokens,
        # The agent loop runs tools itself; the SDK must hand every call back.
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )


def map_error(exc: Exception) -> ProviderError:
    """One ProviderError for every failure in `FAILURES`, raised after the SDK's own retries."""
    retry_after: float | None = None
    if isinstance(exc, httpx2.TimeoutException):
        kind = ProviderErrorKind.TIMEOUT
    elif isinstance(exc, httpx2.TransportError):
        kind = ProviderErrorKind.CONNECTION
    elif isinstance(exc, errors.APIError):
        # An error inside an open stream may carry no HTTP status: the server failed mid-reply.
        code = exc.code if isinstance(exc.code, int) else 500
        kind = ProviderErrorKind.for_status(code)
        retry_after = _retry_after(exc)
    else:
        kind = ProviderErrorKind.BAD_RESPONSE
    return ProviderError(NAME, kind, str(exc) or type(exc).__name__, retry_after=retry_after)


def _retry_after(exc: errors.APIError) -> float | None:
    """The wait asked for: a `Retry-After` header, or Google's RetryInfo such as "20s"."""
    headers = getattr(exc.response, "headers", None)
    if headers is not None and (seconds := retry_after_seconds(headers)) is not None:
        return seconds
    error = exc.details.get("error") if isinstance(exc.details, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and detail.get("@type") == _RETRY_INFO:
            delay = str(detail.get("retryDelay", "")).removesuffix("s")
            return retry_after_seconds({"retry-after": delay})
    return None


def _text(value: object) -> str:
    return text_field(NAME, value)


def _count(value: object) -> int:
    return count_field(NAME, value)


def _signs_calls(model: str) -> bool:
    """Gemini 1.x and 2.x predate mandatory thought signatures."""
    name = model.removeprefix("models/")
    return not name.startswith(("gemini-1", "gemini-2"))
