"""What every HTTP service checks at its edge, before any handler runs.

- ids are UUIDs and query values are what the contract names (422 otherwise);
- text is valid Unicode without NUL (Postgres and JSON cannot carry either);
- a request body is at most ``max_body_bytes`` (413), and a 422 never echoes the input;
- a connection must send a complete request head within ``header_timeout_s`` (408), so
  stalled handshakes (HTTP or WebSocket) cannot pile up;
- caches keyed by client input are bounded (``BoundedCache``);
- a redirect never names a host: its ``Location`` is a path (a forged Host is not reflected).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlsplit

import h11
from fastapi import FastAPI, Path, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# Recommendation kinds are snake_case names of the change (spot_migration, scale_out, ...).
KIND_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
DEFAULT_MAX_BODY_BYTES = 64 * 1024
MAX_HEAD_BYTES = 16 * 1024  # request line and headers (h11's own default)


def _valid_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (JSON allows "\ud800"; UTF-8 does not)
        raise ValueError("must be valid Unicode text") from None
    return value


SafeText = Annotated[str, AfterValidator(_valid_text)]


def path_id(description: str) -> Any:
    return Path(pattern=UUID_PATTERN, description=description)


def query_id(description: str) -> Any:
    return Query(pattern=UUID_PATTERN, description=description)


AnalysisId = Annotated[str, path_id("an analysis id (UUID)")]
RecommendationId = Annotated[str, path_id("a recommendation id (UUID)")]
OptimizationId = Annotated[str, path_id("an optimization id (UUID)")]
EntityIdQuery = Annotated[str | None, query_id("only entries of this entity (UUID)")]
CustomerIdQuery = Annotated[str | None, query_id("only this customer's (UUID)")]
KindQuery = Annotated[str | None, Query(pattern=KIND_PATTERN,
                                        description="a snake_case kind, e.g. spot_migration")]


# ---- error shape ---------------------------------------------------------------------------

def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """FastAPI's field errors without ``input``: a 422 must not echo what it refused (a
    10 MB body would come back as a 10 MB error, and whatever secret it held with it)."""
    out = []
    for e in exc.errors():
        item: dict[str, Any] = {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
                                "type": str(e.get("type", ""))}
        ctx = e.get("ctx")
        if ctx:
            item["ctx"] = {k: v if isinstance(v, int | float | str) else str(v)
                           for k, v in ctx.items()}
        out.append(item)
    return out


def install_edge(app: FastAPI, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": field_errors(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        # FastAPI answers a body it cannot decode (not UTF-8) with an undocumented 400; it
        # is an invalid body like any other: 422, the field-error shape of the contract.
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            return JSONResponse({"detail": [{"loc": ["body"], "msg": "body is not UTF-8 JSON",
                                             "type": "json_invalid"}]}, status_code=422)
        return await http_exception_handler(request, exc)

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(RelativeRedirects)


# ---- request size cap ----------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyLimit:
    """413 for a body over ``max_bytes``: at once when Content-Length says so, else as soon as
    the streamed body passes the limit (the rest is never read)."""

    def __init__(self, app: Callable[..., Awaitable[None]], max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    def _refusal(self) -> bytes:
        return json.dumps({"detail": f"request body larger than {self.max_bytes} bytes"}).encode()

    async def _send_413(self, send: Send) -> None:
        body = self._refusal()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False  # h11 refuses a malformed Content-Length before us
                if too_big:
                    await self._send_413(send)
                    return
        seen, started, refused = 0, False, False

        async def counting_receive() -> Message:
            # Past the cap: answer 413 now and tell the app the client left (an exception
            # here would become the framework's own 400 "error parsing the body").
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes and not started:
                    refused = True
                    await self._send_413(send)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer; whatever the app says after it is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, tracking_send)


# ---- redirects ----------------------------------------------------------------------------

class RelativeRedirects:
    """A redirect's ``Location`` as a path only. Starlette builds it from the request's Host
    header (``/v1/costs/`` -> 307 ``http://<Host>/v1/costs``), so a forged Host would be
    reflected into a link a cache or a client may follow."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def relative_send(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                message["headers"] = [
                    (k, _path_only(v) if k.lower() == b"location" else v)
                    for k, v in message.get("headers", [])]
            await send(message)

        await self.app(scope, receive, relative_send)


def _path_only(location: bytes) -> bytes:
    parts = urlsplit(location.decode("latin-1"))
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    path = "/" + path.lstrip("/")  # "//evil" would be read as another host
    return (path + (f"?{parts.query}" if parts.query else "")).encode("latin-1")


# ---- bounded request head ------------------------------------------------------------------

class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for a complete request head. uvicorn's own
    keep-alive timer stops at the first byte, so a client that sends half a request (or half
    a WebSocket handshake) and stalls would hold the connection forever."""

    header_timeout_s = 0.8  # Settings.header_timeout_s: a stalled handshake is cut within 1 s
    # h11 bounds only a head that arrives in pieces; one that arrives whole is parsed at any
    # size (a 64 KiB WebSocket handshake was accepted). Measured here before h11 sees it.
    max_head_bytes = MAX_HEAD_BYTES

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        self._head = b""
        super().connection_made(transport)
        self._arm_head_timer()

    def _refuse(self, status: bytes, detail: bytes) -> None:
        body = b'{"detail": "' + detail + b'"}'
        self.transport.write(b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
                             b"connection: close\r\ncontent-length: " + str(len(body)).encode()
                             + b"\r\n\r\n" + body)
        self.transport.close()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timeout)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._refuse(b"408 Request Timeout", b"request head not received in time")

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._head += data[:self.max_head_bytes + 4 - len(self._head)]  # a bounded prefix
            end = self._head.find(b"\r\n\r\n")
            if end > self.max_head_bytes or (end < 0 and len(self._head) > self.max_head_bytes):
                self._disarm_head_timer()
                self._refuse(b"431 Request Header Fields Too Large",
                             b"request head larger than %d bytes" % self.max_head_bytes)
                return
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head = b""
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm_head_timer()  # part of a (next) request head: it must complete in time
        else:
            self._disarm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)


def header_timeout_protocol(timeout_s: float) -> type[HeaderTimeoutProtocol]:
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,),
                {"header_timeout_s": timeout_s})


# ---- bounded caches ------------------------------------------------------------------------

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A least-recently-used map of at most ``max_size`` entries."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        if key in self._data:
            self._data.move_to_end(key)
            return self._data[key]
        return None

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_size:
            self._data.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)
