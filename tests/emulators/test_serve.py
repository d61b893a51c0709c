"""The emulators as real servers: start_in_thread binds a free port and answers over a socket."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from processor.emulators import cordial, segment
from processor.emulators.faults import FaultConfig
from processor.emulators.serve import start_in_thread


class TestStartInThread:
    def test_cordial_answers_over_a_real_socket_and_stops(self):
        """A thread-served Cordial emulator authenticates, keeps state, and frees its port on stop."""
        server = start_in_thread(cordial.create_app(api_key="k"))
        try:
            assert server.url == f"http://127.0.0.1:{server.port}"
            with httpx.Client(base_url=server.url, headers={"x-api-key": "k"}) as client:
                assert client.get("/api/checkAuth").status_code == 200
                assert client.get("/api/checkAuth", headers={"x-api-key": "nope"}).status_code == 401
                r = client.post("/api/segment/upsertContact", json={"segmentId": "u1"})
                assert r.status_code == 200
                state = client.get("/_emulator/state").json()
                assert len(state["contacts"]) == 1
        finally:
            server.stop()
        with httpx.Client() as client:
            try:
                client.get(f"{server.url}/api/checkAuth", timeout=1)
                refused = False
            except httpx.ConnectError:
                refused = True
        assert refused

    def test_segment_as_context_manager(self):
        """The context-manager form serves Segment and accepts a batch with Basic auth."""
        with (
            start_in_thread(segment.create_app(write_key="w")) as server,
            httpx.Client(base_url=server.url, auth=("w", "")) as client,
        ):
            r = client.post("/v1/batch", json={"batch": [{"type": "track", "event": "E", "userId": "u"}]})
            assert r.status_code == 200
            assert r.json() == {"success": True}
            assert client.get("/_emulator/received").json()["count"] == 1


class TestTimeoutOverSocket:
    def test_client_read_timeout_on_a_hanging_request(self):
        """The timeout fault makes a real client's read time out; the server stays usable."""
        app = cordial.create_app(api_key="k", faults=FaultConfig(rate_timeout=1.0, timeout_hang_s=0.5))
        with (
            start_in_thread(app) as server,
            httpx.Client(base_url=server.url, headers={"x-api-key": "k"}, timeout=0.1) as client,
        ):
            with pytest.raises(httpx.ReadTimeout):
                client.get("/api/checkAuth")
            assert client.post("/_emulator/faults", json={"rate_timeout": 0}).status_code == 200
            assert client.get("/api/checkAuth").status_code == 200

    def test_stop_releases_a_hanging_request(self):
        """Stopping the server ends an injected hang: the client gets its 504 instead of a dropped link."""
        app = cordial.create_app(api_key="k", faults=FaultConfig(rate_timeout=1.0, timeout_hang_s=120))
        server = start_in_thread(app)
        outcome: list[object] = []

        def hit() -> None:
            try:
                outcome.append(
                    httpx.get(f"{server.url}/api/checkAuth", headers={"x-api-key": "k"}, timeout=60)
                )
            except httpx.HTTPError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=hit)
        thread.start()
        with httpx.Client(base_url=server.url) as control:
            while control.get("/_emulator/received").json()["count"] == 0:
                time.sleep(0.01)
        server.stop()
        thread.join(30)
        assert len(outcome) == 1
        assert isinstance(outcome[0], httpx.Response)
        assert outcome[0].status_code == 504
