"""The customer portal's web pages: static HTML, CSS and one script, served by the portal.

No build step and no template engine: ``/app/...`` always answers the same page and the
script renders the view for its path, calling the customer API (``/api/v1``, Bearer token
kept in the tab's sessionStorage) and following ``/ws/events``. The pages are not API
operations, so they stay out of ``/openapi.json`` (docs/api.md, "Web pages").
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).with_name("static")
# Only these files are served: a name from the URL never becomes a path.
ASSETS = {"app.js": "text/javascript", "app.css": "text/css"}
# Same-origin only: the script talks to this portal's API and WebSocket and nothing else.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=307)


@router.get("/app")
@router.get("/app/{view:path}")
async def page(view: str = "") -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/assets/{name}")
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, "not found")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers=HEADERS)
