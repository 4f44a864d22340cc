"""Reading a request body within a size limit, for every route that takes one."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLargeError(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    # Content-Length may be absent (chunked) or lie, so count what actually arrives.
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLargeError
    return bytes(body)
