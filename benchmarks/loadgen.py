"""A small HTTP/1.1 load generator: N concurrent keep-alive clients on asyncio streams.

Run by the benchmarks in a process of its own: ``python loadgen.py SPEC.json``; prints
a JSON result. A hand-written client because wrk is not installed and a full HTTP
client library spends more CPU per request than the server's cheapest route, on a
machine where the client and the server share two cores.

The spec: {"host", "port", "concurrency", "duration", "warmup", "kind": "healthz" |
"diary" | "dose", "clients": [{"token", "patients": [{"id", "dates": [...]}]}]}.
Each diary POST uses the next unused (patient, date) of its client; a dose POST logs
a dose "taken" just now for the client's next patient. Every body has a new UUID.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any


class Client:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(
        self, method: str, path: str, token: str | None, body: bytes | None
    ) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            await self.connect()
        assert self.writer is not None and self.reader is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        head.append("Accept: application/json")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + (body or b""))
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length = 0
        chunked = False
        close = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and "close" in value.lower():
                close = True
        if chunked:
            data = bytearray()
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                data += await self.reader.readexactly(size)
                await self.reader.readline()
            payload = bytes(data)
        else:
            payload = await self.reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def _diary_work(client: dict[str, Any]) -> Iterator[tuple[str | None, str, bytes | None]]:
    sessions = client["sessions"]
    rng = random.Random(len(sessions))
    longest = max((len(p["dates"]) for s in sessions for p in s["patients"]), default=0)
    for d in range(longest):
        for session in sessions:
            for patient in session["patients"]:
                if d >= len(patient["dates"]):
                    continue
                pain = rng.randint(2, 8)
                body = {
                    "id": str(uuid.uuid4()),
                    "date": patient["dates"][d],
                    "pain": pain,
                    "worst_pain": min(10, pain + 2),
                    "sleep_interference": max(0, pain - 1),
                    "activity_minutes": 30,
                    "mood": 10 - pain,
                }
                path = f"/api/v1/patients/{patient['id']}/diary-entries"
                yield session["token"], path, json.dumps(body).encode()


def _dose_work(client: dict[str, Any]) -> Iterator[tuple[str | None, str, bytes | None]]:
    pairs = [(s["token"], p["id"]) for s in client["sessions"] for p in s["patients"]]
    for token, patient in itertools.cycle(pairs):
        body = {
            "id": str(uuid.uuid4()),
            "status": "taken",
            "taken_at": datetime.now(UTC).isoformat(),
        }
        yield token, f"/api/v1/patients/{patient}/dose-events", json.dumps(body).encode()


def _get_work(client: dict[str, Any], paths: list[str]) -> Iterator[tuple[str | None, str, None]]:
    token = client["sessions"][0]["token"] if client.get("sessions") else None
    for path in itertools.cycle(paths):
        yield token, path, None


async def worker(
    spec: dict[str, Any],
    index: int,
    start_at: float,
    measure_from: float,
    stop_at: float,
    out: dict[str, Any],
) -> None:
    kind = spec["kind"]
    client = Client(spec["host"], spec["port"])
    clients = spec.get("clients") or [{"sessions": []}]
    mine = clients[index % len(clients)]
    work: Iterator[tuple[str | None, str, bytes | None]]
    if kind == "healthz":
        work = itertools.repeat((None, "/healthz", None))
    elif kind == "diary":
        work = _diary_work(mine)
    elif kind == "dose":
        work = _dose_work(mine)
    else:
        work = _get_work(mine, spec["paths"])
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    latencies: list[float] = out["latencies"]
    statuses: dict[int, int] = out["statuses"]
    for token, path, body in work:
        now = time.perf_counter()
        if now >= stop_at:
            break
        try:
            status, _ = await client.request("POST" if body else "GET", path, token, body)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            out["errors"] += 1
            await client.close()
            continue
        done = time.perf_counter()
        if now >= measure_from and done <= stop_at:
            latencies.append(done - now)
            statuses[status] = statuses.get(status, 0) + 1
    else:
        out["exhausted"] += 1
    await client.close()


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    warmup = float(spec.get("warmup", 2))
    duration = float(spec.get("duration", 10))
    start_at = time.perf_counter() + 0.2
    measure_from = start_at + warmup
    stop_at = measure_from + duration
    out: dict[str, Any] = {"latencies": [], "statuses": {}, "errors": 0, "exhausted": 0}
    await asyncio.gather(
        *(
            worker(spec, i, start_at, measure_from, stop_at, out)
            for i in range(int(spec["concurrency"]))
        )
    )
    lat = sorted(x * 1000 for x in out["latencies"])

    def pct(q: float) -> float:
        if not lat:
            return 0.0
        k = (len(lat) - 1) * q / 100
        lo = int(k)
        hi = min(lo + 1, len(lat) - 1)
        return float(lat[lo] + (lat[hi] - lat[lo]) * (k - lo))

    ok = sum(n for s, n in out["statuses"].items() if 200 <= s < 300)
    return {
        "kind": spec["kind"],
        "concurrency": spec["concurrency"],
        "seconds": duration,
        "requests": len(lat),
        "ok": ok,
        "statuses": {str(k): v for k, v in sorted(out["statuses"].items())},
        "errors": out["errors"],
        "exhausted_clients": out["exhausted"],
        "throughput_rps": round(ok / duration, 1),
        "p50_ms": round(pct(50), 2),
        "p95_ms": round(pct(95), 2),
        "p99_ms": round(pct(99), 2),
        "max_ms": round(lat[-1], 2) if lat else 0.0,
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        config = json.load(f)
    try:
        import uvloop

        result = uvloop.run(main(config))
    except ImportError:  # pragma: no cover
        result = asyncio.run(main(config))
    sys.stdout.write(json.dumps(result))
