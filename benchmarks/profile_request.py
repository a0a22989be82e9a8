"""Where the time of one request goes: cProfile of the whole application, in one thread.

    .venv/bin/python benchmarks/profile_request.py DATABASE_URL USER_ID PATH [N] [--post JSON]

Runs the real application in this process with its sync routes called inline (not in
the thread pool) so cProfile sees every frame, signs in as USER_ID with a session made
in the database, requests PATH N times (default 20) and prints the functions that
take the time, and how many SQL statements one request runs.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import pstats
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def _inline(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return func(*args, **kwargs)


def profile(
    url: str, user_id: uuid.UUID, path: str, n: int = 20, body: Any = None
) -> dict[str, Any]:
    import fastapi.dependencies.utils
    import fastapi.routing
    import httpx2
    from common import open_sessions
    from sqlalchemy import event

    from painpath.app import create_app
    from painpath.config import Settings

    # sync routes and dependencies run inline, in this thread, where cProfile looks
    setattr(fastapi.routing, "run_in_threadpool", _inline)  # noqa: B010
    setattr(fastapi.dependencies.utils, "run_in_threadpool", _inline)  # noqa: B010
    app = create_app(Settings(database_url=url))
    token = open_sessions(url, [user_id])[0]
    statements: list[str] = []
    event.listen(
        app.state.painpath.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: statements.append(statement),
    )
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/html,application/json"}

    async def go(profiler: cProfile.Profile | None, count: int) -> list[float]:
        transport = httpx2.ASGITransport(app=app)
        times = []
        async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as client:
            for _ in range(count):
                data = None
                if body is not None:
                    data = {**body, "id": str(uuid.uuid4())}
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                if data is None:
                    r = await client.get(path, headers=headers)
                else:
                    r = await client.post(path, headers=headers, json=data)
                if profiler:
                    profiler.disable()
                times.append(time.perf_counter() - started)
                if r.status_code >= 400:
                    raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
        return times

    asyncio.run(go(None, 2))
    statements.clear()
    asyncio.run(go(None, 1))
    per_request = len(statements)
    profiler = cProfile.Profile()
    times = asyncio.run(go(profiler, n))
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    return {
        "path": path,
        "requests": n,
        "mean_ms": round(sum(times) / len(times) * 1000, 1),
        "statements_per_request": per_request,
        "profile": out.getvalue(),
    }


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    post = None
    if "--post" in sys.argv:
        post = json.loads(sys.argv[sys.argv.index("--post") + 1])
        args = [a for a in args if a != sys.argv[sys.argv.index("--post") + 1]]
    count = int(args[3]) if len(args) > 3 else 20
    result = profile(args[0], uuid.UUID(args[1]), args[2], count, post)
    print(
        f"{result['path']}: {result['mean_ms']} ms per request (profiled), "
        f"{result['statements_per_request']} SQL statements per request"
    )
    print(result["profile"])
