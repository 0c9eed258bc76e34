"""The playground's web app (Starlette): the page, its JSON API, its event stream, and /runs.

Routes:
```
GET  /                      the playground page (its settings come from the URL query)
GET  /static/NAME           the page's own JavaScript and CSS, from the package (no network)
GET  /api/options           defaults, choices and limits the page's form offers
GET  /api/inspect?target=T  the inputs and outputs of a target, to draw the network before training
POST /api/start             {"page", "settings", "step"}: a new training for the page
POST /api/control           {"page", "action"}: pause, resume, step or reset
POST /api/save              {"page"}: write the finished run under --runs
POST /api/upload?name=F     the body is a CSV file: kept under --runs/uploads
GET  /api/events?page=ID    server-sent events: what changed, a few times a second
GET  /runs                  the run folders under --runs, sortable, with a comparison
GET  /api/runs[/NAME]       their rows, or one run's curves and config
GET  /runs/NAME/FILE        a run's report.html (or plot, csv, json), read-only
```
Refused input is answered with status 400 and ``{"error": "..."}``; the page shows it as
``error: ...`` in its status. The API answers only the playground's own page (play.guard: the
browser's Sec-Fetch-Site and Origin, and a per-server token for every POST); run files are served
under a Content-Security-Policy that lets nothing in them run. Files under --runs are read through
mlpfit.boundary (regular files inside --runs only, sizes and nesting capped).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
from importlib import resources

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mlpfit import boundary
from mlpfit.config import schema as cfg
from mlpfit.errors import MlpfitError, UsageError
from mlpfit.play import guard, problem, runlist, settings, uploads
from mlpfit.play.pages import Pages, check_page
from mlpfit.play.wire import finite

STATIC = {"play.js": "text/javascript", "draw.js": "text/javascript", "pictures.js": "text/javascript",
          "runs.js": "text/javascript",
          "play.css": "text/css", "index.html": "text/html", "runs.html": "text/html"}
STREAM_TICK = 0.1  # seconds between looks at the training: up to ten messages a second
HEARTBEAT = 2.0  # seconds of silence before a comment line, which also finds a closed page
LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]
MAX_JSON_BODY = 64 * 2**10  # bytes of a POST's JSON: a page id, a few settings
MAX_JSON_DEPTH = 8  # nesting of a POST's JSON: {"settings": {...}} is 2


def create_app(runs_dir: str, allowed_hosts: list[str] | None = None) -> Starlette:
    """The app serving ``runs_dir``; ``allowed_hosts`` guards against DNS rebinding (None: any)."""
    pages = Pages(runs_dir)
    token = guard.new_token()
    handlers = Handlers(pages, runs_dir, token)
    routes = [
        Route("/", handlers.page("index.html")),
        Route("/runs", handlers.page("runs.html")),
        Route("/static/{name}", handlers.static),
        Route("/api/options", handlers.options),
        Route("/api/inspect", handlers.inspect),
        Route("/api/start", handlers.start, methods=["POST"]),
        Route("/api/control", handlers.control, methods=["POST"]),
        Route("/api/save", handlers.save, methods=["POST"]),
        Route("/api/upload", handlers.upload, methods=["POST"]),
        Route("/api/events", handlers.events),
        Route("/api/runs", handlers.runs),
        Route("/api/runs/{name}", handlers.run_detail),
        Route("/runs/{name}/{file}", handlers.run_file),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)] if allowed_hosts else []
    middleware.append(Middleware(guard.RequestGuard, token=token))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        pages.stop_all()  # the server is going: no training outlives it

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={MlpfitError: refused, runlist.NotFound: not_found})
    app.state.pages, app.state.token = pages, token
    return app


async def refused(request: Request, err: MlpfitError) -> JSONResponse:
    return JSONResponse({"error": str(err).replace("\n", " ")}, status_code=400)


async def not_found(request: Request, err: Exception) -> Response:
    return Response("not found", status_code=404, media_type="text/plain")


async def json_body(request: Request) -> dict:
    """The POST's JSON object, its size and nesting capped before it is parsed."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise UsageError("send the request as application/json")
    data = await capped_body(request, MAX_JSON_BODY, f"the request body is larger than {MAX_JSON_BODY} bytes: "
                             "send the page id and its settings only")
    try:
        body = boundary.parse_json(data, "the request body", MAX_JSON_DEPTH)
    except boundary.Unsafe as err:
        raise UsageError(str(err)) from None
    if not isinstance(body, dict):
        raise UsageError("the request body is not a JSON object")
    return body


async def capped_body(request: Request, limit: int, refusal: str) -> bytes:
    """The request's body, refused as soon as it passes ``limit`` bytes (before it is all in memory)."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise UsageError(refusal)
    return bytes(data)


class Handlers:
    def __init__(self, pages: Pages, runs_dir: str, token: str):
        self.pages, self.runs_dir, self.token = pages, runs_dir, token

    def page(self, name: str):
        async def serve(request: Request) -> Response:
            html = _asset(name).replace(b"</head>", guard.token_meta(self.token) + b"\n</head>", 1)
            return Response(html, media_type="text/html", headers={"Cache-Control": "no-store"})

        return serve

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            raise runlist.NotFound(name)
        return Response(_asset(name), media_type=STATIC[name])

    async def options(self, request: Request) -> JSONResponse:
        s = settings
        return JSONResponse({
            "defaults": s.DEFAULTS, "activations": list(cfg.ACTIVATIONS), "optimizers": list(cfg.OPTIMIZERS),
            "limits": {"samples": s.MAX_SAMPLES, "width": s.MAX_WIDTH, "depth": s.MAX_DEPTH, "epochs": s.MAX_EPOCHS,
                       "upload_bytes": uploads.MAX_UPLOAD_BYTES},
            "runs": os.path.abspath(self.runs_dir),
        })

    async def inspect(self, request: Request) -> JSONResponse:
        query = request.query_params
        found = await asyncio.to_thread(problem.describe, query.get("target", "").strip(),
                                        query.get("target-column", "").strip(), self.runs_dir,
                                        query.get("drop", "").strip())
        return JSONResponse(found)

    async def start(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        page, query = check_page(body.get("page")), body.get("settings") or {}
        if not isinstance(query, dict) or not all(isinstance(v, (str, int, float)) for v in query.values()):
            raise UsageError("settings must be an object of names and values")
        query = {str(k): str(v) for k, v in query.items()}
        session = await asyncio.to_thread(self.pages.start, page, query, bool(body.get("step")))
        return JSONResponse({"state": session.state, "settings": session.settings.values})

    async def control(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        session = self.pages.control(check_page(body.get("page")), str(body.get("action")))
        return JSONResponse({"state": "reset" if session is None else session.state})

    async def save(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        session = self.pages.get(check_page(body.get("page")))
        if session is None:
            raise UsageError("nothing to save: press Start and wait until the status says done")
        return JSONResponse(await asyncio.to_thread(session.save))

    async def upload(self, request: Request) -> JSONResponse:
        if request.headers.get("content-type", "").split(";")[0].strip() not in ("text/csv", "application/octet-stream"):
            raise UsageError("upload the file as text/csv")
        data = await capped_body(request, uploads.MAX_UPLOAD_BYTES,
                                 f"the file is larger than {uploads.MAX_UPLOAD_BYTES // 2**20} MiB, the playground's "
                                 "limit: use mlpfit fit FILE.csv for larger tables")
        name = request.query_params.get("name", "table.csv")
        return JSONResponse(await asyncio.to_thread(uploads.store, self.runs_dir, name, bytes(data)))

    async def events(self, request: Request) -> StreamingResponse:
        page = check_page(request.query_params.get("page"))
        return StreamingResponse(self._stream(page), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def _stream(self, page: str):
        """Changes of the page's training as `data:` lines; ends (and stops it) when the page goes."""
        self.pages.opened(page)
        cursor, quiet = {}, 0.0
        try:
            yield "retry: 1000\n\n"
            while True:
                session = self.pages.get(page)
                message = None if session is None else session.update_text(cursor)
                if session is None and cursor:  # reset: tell the page once
                    cursor.clear()
                    message = '{"state": "reset"}'
                if message is not None:
                    quiet = 0.0
                    yield f"data: {message}\n\n"
                elif quiet >= HEARTBEAT:
                    quiet = 0.0
                    yield ": still here\n\n"
                await asyncio.sleep(STREAM_TICK)
                quiet += STREAM_TICK
        finally:
            self.pages.closed(page)

    async def runs(self, request: Request) -> JSONResponse:
        rows = await asyncio.to_thread(runlist.list_runs, self.runs_dir)
        return JSONResponse(finite({"runs": rows, "folder": os.path.abspath(self.runs_dir)}))

    async def run_detail(self, request: Request) -> JSONResponse:
        try:
            detail = await asyncio.to_thread(runlist.detail, self.runs_dir, request.path_params["name"])
        except (boundary.Unsafe, OSError, ValueError, KeyError, TypeError, AttributeError):
            raise runlist.NotFound(request.path_params["name"]) from None
        return JSONResponse(finite(detail))

    async def run_file(self, request: Request) -> FileResponse:
        path = runlist.run_file(self.runs_dir, request.path_params["name"], request.path_params["file"])
        return FileResponse(path, headers={"Cache-Control": "no-store", "Content-Security-Policy": guard.RUN_FILE_POLICY,
                                           "X-Content-Type-Options": "nosniff"})


def _asset(name: str) -> bytes:
    return resources.files("mlpfit.play").joinpath("static", name).read_bytes()


def allowed_hosts(host: str) -> list[str] | None:
    """The Host headers to accept: loopback names (and the one listened on) when listening on loopback, else any."""
    if not is_loopback(host):
        return None
    bare = host.strip("[]")
    return list(dict.fromkeys([*LOOPBACK_NAMES, bare, f"[{bare}]" if ":" in bare else bare]))


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
