"""The stub verification platform in a real uvicorn server, for tests.

The server listens on a free localhost port in a background thread, so the
service's HTTP client talks to it over real sockets. The stub moves checks on
by counting polls (``app.stubs.verification_platform``): nothing here sleeps
to wait for a check.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from app.stubs.verification_platform import StubConfig, create_stub_app


@contextmanager
def running_stub(config: StubConfig | None = None) -> Iterator[str]:
    """Serve the stub until the block ends; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_stub_app(config), lifespan="off", log_level="warning")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, daemon=True
    )
    thread.start()
    give_up = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > give_up or not thread.is_alive():
            raise RuntimeError("the stub platform did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def free_port() -> int:
    """A localhost port nobody listens on (for an unreachable platform)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class StubControl:
    """The stub's test endpoints: counters, injected outages, reset."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def reset(self) -> None:
        (await self._client.post("/_stub/reset")).raise_for_status()

    async def stats(self) -> dict[str, int]:
        response = await self._client.get("/_stub/stats")
        response.raise_for_status()
        counters: dict[str, int] = response.json()
        return counters

    async def unavailable_next(self, count: int) -> None:
        response = await self._client.post(
            "/_stub/faults", json={"unavailable_next": count}
        )
        response.raise_for_status()
