"""`GET /media/{merchant_id}/{icon|logo}.png`: a merchant's branding images, public because portals show them."""

from __future__ import annotations

from fastapi import HTTPException, Response
from nicegui import app

from app.context import AppContext
from app.errors import NotFound
from app.services.portal_settings import load_branding_image

# Portal pages ask for `?v=<settings version>`, and a new upload bumps the version: such a URL never changes.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"


def register(context: AppContext) -> None:
    @app.get("/media/{merchant_id}/{kind}.png", include_in_schema=False)
    def branding_image(merchant_id: str, kind: str, v: str = "") -> Response:
        try:
            with context.database.transaction() as session:
                image = load_branding_image(session=session, merchant_id=merchant_id, kind=kind)
        except NotFound:
            raise HTTPException(status_code=404) from None
        return Response(
            content=image.png,
            media_type="image/png",
            headers={
                "Cache-Control": IMMUTABLE if v == str(image.version) else REVALIDATE,
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'inline; filename="{kind}.png"',
            },
        )
