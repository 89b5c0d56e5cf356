"""A small real service for proxy tests: echoes what it receives, fails on demand."""

from __future__ import annotations

import asyncio
from collections import Counter

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel

calls: Counter[str] = Counter()


class Item(BaseModel):
    name: str
    quantity: int


def echo_app() -> FastAPI:
    app = FastAPI(title="echo")

    # Out of the schema: one function under five methods repeats its operation id.
    @app.api_route(
        "/echo/{rest:path}",
        methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
        include_in_schema=False,
    )
    async def echo(request: Request, rest: str) -> JSONResponse:
        body = await request.body()
        calls[f"echo:{rest}"] += 1
        response = JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "raw_path": request.scope["raw_path"].decode(),
                "query": request.url.query,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "body_bytes": len(body),
            },
            headers={"X-Upstream": "echo"},
        )
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    @app.api_route("/flaky/{key}", methods=["GET", "POST"], include_in_schema=False)
    async def flaky(key: str, failures: int = 1) -> JSONResponse:
        """Answers 503 the first ``failures`` times for a given key."""
        calls[f"flaky:{key}"] += 1
        if calls[f"flaky:{key}"] <= failures:
            return JSONResponse({"detail": "warming up"}, status_code=503)
        return JSONResponse({"attempt": calls[f"flaky:{key}"]})

    @app.get("/slow")
    async def slow(seconds: float = 2.0) -> dict[str, str]:
        await asyncio.sleep(seconds)
        return {"status": "late"}

    @app.get("/plain-error")
    async def plain_error() -> PlainTextResponse:
        return PlainTextResponse("Traceback (most recent call last): secrets…", status_code=500)

    @app.get("/conflict")
    async def conflict() -> JSONResponse:
        return JSONResponse(
            {
                "type": "about:blank",
                "title": "Conflict",
                "status": 409,
                "detail": "taken",
                "instance": "/conflict",
                "code": "conflict",
            },
            status_code=409,
            media_type="application/problem+json",
        )

    @app.get("/chunks")
    async def chunks(count: int = 3, size: int = 10) -> StreamingResponse:
        """A chunked answer of unknown length, the kind the gateway streams through."""

        async def pieces():  # type: ignore[no-untyped-def]
            for i in range(count):
                yield str(i % 10).encode() * size
                await asyncio.sleep(0)

        return StreamingResponse(pieces(), media_type="text/plain")

    @app.get("/events")
    async def events(count: int = 3) -> StreamingResponse:
        """A short server-sent event stream."""

        async def ticks():  # type: ignore[no-untyped-def]
            for i in range(count):
                yield f"id: {i}\ndata: tick {i}\n\n".encode()
                await asyncio.sleep(0.01)

        return StreamingResponse(ticks(), media_type="text/event-stream")

    @app.post("/items", response_model=Item, status_code=201)
    async def create_item(item: Item) -> Item:
        return item

    @app.api_route("/public/directory", methods=["GET", "POST"], include_in_schema=False)
    async def public(request: Request) -> JSONResponse:
        """Stands for a public read: echoes the method and the headers it was given."""
        calls["public"] += 1
        return JSONResponse(
            {"method": request.method, "headers": sorted(k.lower() for k in request.headers)}
        )

    return app
