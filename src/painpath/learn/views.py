"""HTML routes: patient information pages (open to everyone signed in or not)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from painpath.kit.web import register_nav, render, transaction
from painpath.learn.domain import DISCLAIMER, TOPICS, topic

router = APIRouter(include_in_schema=False)

register_nav("patient", "Learn", "/learn", 60)


@router.get("/learn")
def learn_index(request: Request) -> Response:
    with transaction(request, require_actor=False) as tx:
        return render(
            request,
            "learn/index.html",
            {"topics": TOPICS, "disclaimer": DISCLAIMER},
            actor=tx.actor,
        )


@router.get("/learn/{slug}")
def learn_topic(slug: str, request: Request) -> Response:
    found = topic(slug)
    if found is None:
        raise HTTPException(404)
    with transaction(request, require_actor=False) as tx:
        return render(
            request,
            "learn/topic.html",
            {"topic": found, "disclaimer": DISCLAIMER},
            actor=tx.actor,
        )
