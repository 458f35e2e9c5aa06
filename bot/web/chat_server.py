"""Serves the public chat page and the embeddable widget assets (port 8080)."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"


def create_app(rasa_url: str) -> Starlette:
    async def index(_: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def config_js(request: Request) -> Response:
        # The browser talks to the Rasa server directly; tell it where that is.
        url = rasa_url.replace("127.0.0.1", request.url.hostname or "127.0.0.1")
        body = f"window.CLINIC_CHAT_CONFIG = {json.dumps({'rasaUrl': url})};\n"
        return Response(body, media_type="application/javascript")

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/", index),
            Route("/config.js", config_js),
            Route("/healthz", healthz),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )


def main(argv=None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.rasa_url), host=args.host, port=args.port, log_level="warning", ws="none")


if __name__ == "__main__":
    main()
