"""One paid completion, chat or legacy: parse (400) → model (404) → voucher (401/402/409) → run the model →
receipt. Nothing is charged for a request refused before the model ran; a stream cut short is charged for
the tokens computed, and its receipt is available from GET /v1/account/{user}.

Non-streaming responses carry the receipt in headers; streams in an SSE comment line before ``[DONE]``.
`Server-Timing` tells how long verifying the voucher (auth), the model and signing the receipt took.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from services.compute_provider import schemas
from services.compute_provider.billing import Ticket
from services.compute_provider.errors import OpenAIError, bad_request
from services.compute_provider.model.generate import Generation, SamplingParams
from services.compute_provider.runtime import ProviderRuntime
from zerog.compute.protocol import (
    HEADER_RECEIPT,
    HEADER_RECEIPT_SIGNATURE,
    HEADER_REQUEST_HASH,
    Receipt,
)

log = logging.getLogger(__name__)

#: Largest prompt accepted, in bytes (= tokens); the model itself sees the last block of it.
MAX_PROMPT_TOKENS = 16_384
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def describe_validation_error(exc: ValidationError) -> OpenAIError:
    error = exc.errors()[0]
    param = ".".join(str(p) for p in error.get("loc", ())) or None
    kind = error.get("type", "")
    if kind == "missing":
        return bad_request(f"missing required parameter: {param!r}", param, "missing_required_parameter")
    if param == "n":
        return bad_request("only n=1 is supported: this provider returns one choice per request", param)
    if param and param.startswith("messages") and kind == "literal_error":
        return bad_request(
            f"{param}: this model takes system, developer, user and assistant messages (no tool messages)", param
        )
    return bad_request(f"invalid value for {param!r}: {error.get('msg', 'invalid')}", param, "invalid_value")


def parse_body(body: bytes, model_cls: type[schemas._SamplingFields]) -> Any:
    if not body:
        raise bad_request("request body is empty: send a JSON object", None, "invalid_json")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise bad_request(f"request body is not valid JSON: {exc}", None, "invalid_json") from exc
    except RecursionError as exc:
        raise bad_request("request body is nested too deeply", None, "invalid_json") from exc
    if not isinstance(data, dict):
        raise bad_request("request body must be a JSON object", None, "invalid_json")
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        raise describe_validation_error(exc) from exc


class Completion:
    """A validated request ready to be admitted and run."""

    def __init__(self, runtime: ProviderRuntime, kind: str, parsed: Any, prompt: str) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.kind = kind
        self.parsed = parsed
        cap = settings.compute_max_tokens
        requested = parsed.requested_max_tokens()
        if requested is not None and requested > cap:
            raise bad_request(f"max_tokens is {requested}; this provider allows at most {cap}", "max_tokens")
        self.max_tokens = requested or cap
        if len(parsed.stop_sequences()) > schemas.MAX_STOP_SEQUENCES:
            raise bad_request(f"at most {schemas.MAX_STOP_SEQUENCES} stop sequences", "stop")
        generator = runtime.model()
        self.params = SamplingParams(
            max_tokens=self.max_tokens,
            temperature=parsed.temperature,
            top_p=parsed.top_p,
            stop=parsed.stop_sequences(),
            seed=parsed.seed,
        )
        self.generation: Generation = generator.generation(prompt, self.params)
        if self.generation.prompt_tokens > MAX_PROMPT_TOKENS:
            raise bad_request(
                f"the prompt is {self.generation.prompt_tokens} tokens; at most {MAX_PROMPT_TOKENS}",
                "messages" if kind == "chat" else "prompt",
                "context_length_exceeded",
            )
        self.id = schemas.new_id("chatcmpl" if kind == "chat" else "cmpl")
        self.created = int(time.time())
        self.timing: dict[str, float] = {}


def _check_model(runtime: ProviderRuntime, parsed: Any) -> None:
    if parsed.model != runtime.model_name:
        raise OpenAIError(
            404,
            "model_not_found",
            f"the model {parsed.model!r} does not exist on this provider; it serves {runtime.model_name!r}",
            "model",
        )
    if getattr(parsed, "tools", None):
        raise bad_request("this model cannot call tools", "tools")


async def handle(runtime: ProviderRuntime, request: Request, kind: str) -> JSONResponse | StreamingResponse:
    started = time.perf_counter()
    body = await request.body()  # bounded by the platform's body limit
    # Nothing is parsed or tokenised for a request nobody can pay for.
    voucher, signature = await run_in_threadpool(runtime.billing.precheck, request.headers, body)
    if kind == "chat":
        parsed = parse_body(body, schemas.ChatCompletionRequest)
        _check_model(runtime, parsed)
        prompt = runtime.model().chat_prompt(parsed.chat())
    else:
        parsed = parse_body(body, schemas.CompletionRequest)
        _check_model(runtime, parsed)
        if isinstance(parsed.prompt, list) and len(parsed.prompt) != 1:
            raise bad_request("send one prompt per request", "prompt")
        prompt = parsed.prompt_text()
    completion = Completion(runtime, kind, parsed, prompt)
    parsed_at = time.perf_counter()
    # Admission reads the chain (when its cache is stale) and commits to SQLite: off the event loop.
    ticket = await run_in_threadpool(
        runtime.billing.admit, voucher, signature, completion.generation.prompt_tokens, completion.max_tokens
    )
    completion.timing["parse"] = parsed_at - started
    completion.timing["auth"] = time.perf_counter() - parsed_at
    if parsed.stream:
        return StreamingResponse(
            _stream(completion, ticket),
            media_type="text/event-stream",
            headers={**SSE_HEADERS, HEADER_REQUEST_HASH: ticket.voucher.request_hash, **_timing_header(completion)},
        )
    return await run_in_threadpool(_complete, completion, ticket)


def _timing_header(completion: Completion) -> dict[str, str]:
    return {"Server-Timing": ", ".join(f"{name};dur={_ms(t)}" for name, t in completion.timing.items())}


def _complete(completion: Completion, ticket: Ticket) -> JSONResponse:
    billing = completion.runtime.billing
    model_started = time.perf_counter()
    try:
        text = completion.generation.run()
    except Exception:
        billing.release(ticket)
        raise
    signing = time.perf_counter()
    generation = completion.generation
    receipt, signature = billing.complete(ticket, generation.completion_tokens)
    completion.timing["model"] = signing - model_started
    completion.timing["receipt"] = time.perf_counter() - signing
    build = schemas.chat_completion if completion.kind == "chat" else schemas.text_completion
    body = build(
        completion.id,
        completion.runtime.model_name,
        text,
        generation.finish_reason,
        generation.prompt_tokens,
        generation.completion_tokens,
    )
    headers = {
        HEADER_REQUEST_HASH: receipt.request_hash,
        HEADER_RECEIPT: receipt.header_value(),
        HEADER_RECEIPT_SIGNATURE: signature,
        **_timing_header(completion),
    }
    return JSONResponse(body, headers=headers)


def _sse(data: dict[str, Any] | str) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {payload}\n\n".encode()


def _stream(completion: Completion, ticket: Ticket) -> Iterator[bytes]:
    """SSE chunks; whatever happens to the stream, the tokens computed are charged (or, if none were, the
    request is released)."""
    billing = completion.runtime.billing
    generation = completion.generation
    model = completion.runtime.model_name
    chunk: Callable[..., dict[str, Any]] = schemas.chat_chunk if completion.kind == "chat" else schemas.text_chunk
    settled: Receipt | None = None
    try:
        if completion.kind == "chat":
            yield _sse(chunk(completion.id, model, completion.created, {"role": "assistant", "content": ""}))
        for delta in generation:
            payload = {"content": delta} if completion.kind == "chat" else delta
            yield _sse(chunk(completion.id, model, completion.created, payload))
        final = {} if completion.kind == "chat" else ""
        yield _sse(chunk(completion.id, model, completion.created, final, generation.finish_reason))
        if completion.parsed.include_usage:
            last = chunk(completion.id, model, completion.created, None)
            last["usage"] = schemas.usage(generation.prompt_tokens, generation.completion_tokens)
            yield _sse(last)
        settled, signature = billing.complete(ticket, generation.completion_tokens)
        yield settled.sse_line(signature).encode()
        yield _sse("[DONE]")
    finally:
        if settled is None:
            if generation.completion_tokens:
                receipt, _ = billing.complete(ticket, generation.completion_tokens)
                log.info(
                    "stream %s of %s ended early after %d tokens: charged %d wei (receipt at /v1/account)",
                    completion.id,
                    ticket.voucher.user,
                    generation.completion_tokens,
                    receipt.fee,
                )
            else:
                billing.release(ticket)
