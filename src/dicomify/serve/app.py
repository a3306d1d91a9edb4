"""The ASGI application: the capture page and the HTTP API (FastAPI on Starlette).

Requests are parsed and answered here; conversion, preview and delivery are in
:mod:`.service` and :mod:`.pacs`: conversions in worker processes (:mod:`.isolation`),
delivery in the bounded thread pool. Every error is
JSON ``{"error": "one line"}`` with the status that fits (4xx for the client's
mistakes), the same one-line messages as the command line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.staticfiles import StaticFiles

from .._version import __version__
from ..errors import DicomifyError, MetadataError, NetworkError
from ..iod.metadata import FIELDS, validate
from ..iod.regions import LATERALITIES, REGIONS
from ..net import SendResult
from . import pacs
from .config import ServeConfig
from .isolation import ConversionPool
from .security import COOKIE, SESSION_SECONDS, Auth, AuthError, Identity
from .service import Converted, all_paths, convert_picture, error_status, numbered, picture_choices, series_metadata
from .staging import StagingArea
from .uploads import Upload, UploadError, read_multipart, remove_tree
from .work import Busy, WorkerPool, warm_up

__all__ = ["create_app"]

logger = logging.getLogger("dicomify.serve")

STATIC = Path(__file__).parent / "static"
SMALL_BODY = 64 * 1024  # JSON and login forms

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        code: {"description": "error", "content": {"application/json": {"schema": _ERROR_SCHEMA}}} for code in codes
    }


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "the pictures, one part each",
                        },
                        "metadata": {
                            "type": "string",
                            "description": 'a JSON object of DICOM keywords, e.g. {"PatientID": "123"}',
                        },
                        "pictures": {
                            "type": "string",
                            "description": 'a JSON list, per file: {"body_part": "HAND", "laterality": "L"}',
                        },
                        "order": {
                            "type": "string",
                            "description": "an accession number: patient and order from the configured worklist",
                        },
                        "study": {
                            "type": "string",
                            "description": "a Study Instance UID or accession number: join that study in the PACS",
                        },
                    },
                    "required": ["file"],
                }
            }
        },
    }
}

_RESULTS_SCHEMA = {
    "type": "object",
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "status": {
                        "type": "string",
                        "enum": [
                            "stored",
                            "stored-decoded",
                            "committed",
                            "uncommitted",
                            "unconfirmed",
                            "failed",
                            "not-converted",
                        ],
                    },
                    "sop_instance_uid": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["name", "status", "message"],
            },
        },
        "stored": {"type": "integer"},
        "failed": {"type": "integer"},
    },
    "required": ["results", "stored", "failed"],
}


def _is_query_failure(error: Exception) -> bool:
    from ..net import QueryError

    return isinstance(error, QueryError)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class Server:
    """The application's state: configuration, private area, pool, sessions, staged objects."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.auth = Auth(config)
        self.pool = WorkerPool(config.limits.workers, config.limits.max_pending)
        # Uploads are converted in worker processes unless [limits] isolate = false.
        self.converters = ConversionPool(config.limits.workers) if config.limits.isolate else None
        self.staging = StagingArea(config.limits.staged_minutes * 60)
        self._temp: tempfile.TemporaryDirectory[str] | None = None
        self._watch_stop = threading.Event()
        self._watch_thread: threading.Thread | None = None

    @property
    def private(self) -> Path:
        assert self._temp is not None, "the server has not started"
        return Path(self._temp.name)

    def start(self) -> None:
        if self.config.temp_dir is not None:
            self.config.temp_dir.mkdir(parents=True, exist_ok=True)
        # mkdtemp: mode 0700, only this user reads the uploads.
        self._temp = tempfile.TemporaryDirectory(prefix="dicomify-serve-", dir=self.config.temp_dir)
        warm_up()  # the watch folder (and, with isolate = false, the uploads) convert here
        if self.converters is not None:
            self.converters.start()
        if self.config.watch.folder is not None:
            # [watch] folder: the watch folder runs beside the page, in a thread of its own.
            from .watch import Watcher

            watcher = Watcher(self.config.watch.folder, self.config, self._watch_stop)
            self._watch_thread = threading.Thread(target=watcher.run, name="dicomify-watch")
            self._watch_thread.start()

    def stop(self) -> None:
        self._watch_stop.set()
        if self._watch_thread is not None:
            self._watch_thread.join()  # it finishes the file in hand first
            self._watch_thread = None
        self.staging.clear()
        self.pool.shutdown()
        if self.converters is not None:
            self.converters.shutdown()
        if self._temp is not None:
            self._temp.cleanup()
            self._temp = None

    # -- request helpers -----------------------------------------------------------------

    def identify(self, request: Request) -> Identity:
        self.auth.check_origin(request)
        return self.auth.identify(request)

    async def small_body(self, request: Request) -> bytes:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > SMALL_BODY):
            raise UploadError(413, f"the request body is larger than {SMALL_BODY // 1024} KB")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > SMALL_BODY:
                raise UploadError(413, f"the request body is larger than {SMALL_BODY // 1024} KB")
        return bytes(body)

    async def upload(self, request: Request) -> Upload:
        limits = self.config.limits
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limits.max_upload_bytes:
            raise UploadError(
                413, f"the upload is larger than the limit of {limits.max_upload_bytes // (1024 * 1024)} MB"
            )
        upload = await read_multipart(
            request.headers.get("content-type", ""),
            request.stream(),
            self.private,
            limits.max_upload_bytes,
            limits.max_files,
        )
        if not upload.files:
            remove_tree(upload.folder)
            raise UploadError(400, "no picture: send one or more 'file' parts")
        return upload

    async def request_metadata(self, upload: Upload) -> tuple[dict[str, Any], list[Any]]:
        """The ``metadata``, ``order``, ``study`` and ``pictures`` parts, checked.

        Later sources win: the configuration's metadata, the PACS study, the order, then
        the request's own values. MetadataError / NetworkError name what is wrong.
        """
        given: dict[str, Any] = {}
        raw = upload.fields.get("metadata")
        if raw:
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError as error:
                raise MetadataError(f"metadata is not valid JSON ({error.msg} at line {error.lineno})") from None
            if not isinstance(parsed, dict):
                raise MetadataError("metadata must be a JSON object of DICOM keywords")
            given = validate(parsed)
        pictures_raw = upload.fields.get("pictures")
        pictures = None
        if pictures_raw:
            try:
                pictures = json.loads(pictures_raw)
            except json.JSONDecodeError as error:
                raise MetadataError(f"pictures is not valid JSON ({error.msg} at line {error.lineno})") from None
        choices = picture_choices(pictures, len(upload.files))
        order = upload.fields.get("order", "").strip()
        study = upload.fields.get("study", "").strip()
        looked_up: dict[str, Any] = {}
        if order or study:
            looked_up = await self.pool.run(
                pacs.order_and_study_metadata, self.config.worklist, self.config.studies, order, study
            )
        return series_metadata({**self.config.metadata, **looked_up}, given), choices

    async def _convert_here(self, *arguments: Any) -> Converted:
        return await self.pool.run(convert_picture, *arguments)

    async def convert_all(self, upload: Upload, preview: bool) -> list[Converted]:
        metadata, choices = await self.request_metadata(upload)
        convert = self.converters.convert if self.converters is not None else self._convert_here
        jobs = [
            convert(
                item.path,
                item.filename,
                upload.folder / f"object-{index:04d}.dcm",
                numbered(metadata, index),
                self.config.options,
                choices[index],
                preview,
            )
            for index, item in enumerate(upload.files)
        ]
        converted = list(await asyncio.gather(*jobs))
        for item in upload.files:  # the sources are not needed any more
            item.path.unlink(missing_ok=True)
        return converted

    async def publish(self, converted: list[Converted]) -> JSONResponse:
        if self.config.pacs is None:
            raise pacs.NotAvailable("no PACS is configured on this server: set [pacs] in the configuration")
        paths = all_paths(converted)
        sent: list[SendResult] = (
            await self.pool.run(pacs.publish, self.config.pacs, paths, self.config.commit) if paths else []
        )
        by_path = dict(zip(paths, sent, strict=True))
        results = []
        for item in converted:
            if not item.paths:
                results.append(
                    {"name": item.name, "status": "not-converted", "sop_instance_uid": "", "message": item.error}
                )
                continue
            # A picture that made several objects is stored only when all of them are.
            outcomes = [by_path[path] for path in item.paths]
            failed = [outcome for outcome in outcomes if not outcome.ok]
            status = failed[0].status.value if failed else outcomes[0].status.value
            results.append(
                {
                    "name": item.name,
                    "status": status,
                    "sop_instance_uid": item.sop_instance_uid,
                    "message": "; ".join(o.message for o in (failed or outcomes) if o.message),
                }
            )
        stored = sum(1 for r in results if r["status"] in ("stored", "stored-decoded", "committed"))
        logger.info(
            "published %d object(s) to %s: %d stored, %d failed",
            len(results),
            self.config.pacs,
            stored,
            len(results) - stored,
        )
        return JSONResponse({"results": results, "stored": stored, "failed": len(results) - stored})

    def page(self, name: str, replacements: dict[str, str]) -> HTMLResponse:
        html = (STATIC / name).read_text(encoding="utf-8")
        for key, value in replacements.items():
            html = html.replace("{{" + key + "}}", value)
        return HTMLResponse(html, headers=_PAGE_HEADERS)


_PAGE_HEADERS = {
    # Everything the page needs is served from here: no other origin may be loaded or framed.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes form posts say Origin: null
    "Cache-Control": "no-store",
}


def _zip_names(converted: list[Converted]) -> list[tuple[Path, str]]:
    """(object, name in the zip) for every object made: 001-photo.dcm, 002-scan.dcm, 002-scan-2.dcm ..."""
    from .responses import download_name

    files = []
    for index, item in enumerate(converted):
        name = download_name(item.name, index)
        for part, path in enumerate(item.paths):
            files.append((path, name if part == 0 else f"{name[:-4]}-{part + 1}.dcm"))
    return files


def _html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def create_app(config: ServeConfig | None = None) -> FastAPI:
    """The ASGI application for ``config`` (the defaults: loopback, no PACS).

    Parameters
    ----------
    config : ServeConfig, optional
        From :func:`dicomify.serve.load_config`.

    Returns
    -------
    FastAPI
        Run it with uvicorn; its lifespan makes the private temporary area and the
        worker pool, and removes them again.
    """
    server = Server(config or ServeConfig())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        server.start()
        try:
            yield
        finally:
            server.stop()

    app = FastAPI(
        title="dicomify",
        version=__version__,
        description="Turn pictures into DICOM and publish them to the PACS configured on this server.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads its scripts from a CDN: not here
        redoc_url=None,
    )
    app.state.server = server
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Method, path and status only: query strings and bodies may hold patient data.
        started = time.monotonic()
        response = await call_next(request)
        logger.info(
            "%s %s %d %.0f ms",
            request.method,
            request.url.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        # Starlette's own answers (404 no such path, 405 wrong method) in our shape too.
        return error_response(error.status_code, str(error.detail), dict(error.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "the request is not valid"}
        where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
        return error_response(422, f"{where}: {first.get('msg', 'not valid')}")

    @app.exception_handler(AuthError)
    async def _auth_error(request: Request, error: AuthError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return error_response(error.status, error.message, headers)

    @app.exception_handler(UploadError)
    async def _upload_error(request: Request, error: UploadError) -> Response:
        return error_response(error.status, error.message)

    @app.exception_handler(DicomifyError)
    async def _dicomify_error(request: Request, error: DicomifyError) -> Response:
        if isinstance(error, NetworkError):
            # The worklist or PACS could not be asked (502), or the order/study named
            # by the request does not resolve to exactly one (422).
            return error_response(502 if _is_query_failure(error) else 422, str(error))
        return error_response(error_status(error), str(error))

    @app.exception_handler(Busy)
    async def _busy(request: Request, error: Busy) -> Response:
        return error_response(503, "the server is busy converting: try again in a few seconds", {"Retry-After": "5"})

    @app.exception_handler(pacs.NotAvailable)
    async def _not_available(request: Request, error: pacs.NotAvailable) -> Response:
        return error_response(409, str(error))

    # -- the page ------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        session = server.auth.session_of(request)
        if session is None:
            if server.config.auth_required:
                return RedirectResponse("/login", status_code=303)
            session = server.auth.new_session("local")
            response = _index(session.csrf, session.user)
            _set_cookie(response, request, session.id)
            return response
        return _index(session.csrf, session.user)

    def _index(csrf: str, user: str) -> HTMLResponse:
        facts = {
            "publish": server.config.pacs is not None,
            "pacs": str(server.config.pacs) if server.config.pacs is not None else "",
            "worklist": server.config.worklist is not None,
            "studies": server.config.studies is not None,
            "login": server.config.auth_required,
            "user": user,
        }
        return server.page(
            "index.html",
            {
                "csrf": _html_escape(csrf),
                "facts": _html_escape(json.dumps(facts)),
                "version": _html_escape(__version__),
            },
        )

    def _set_cookie(response: Response, request: Request, sid: str) -> None:
        response.set_cookie(
            COOKIE,
            sid,
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )

    @app.get("/login", include_in_schema=False)
    async def login_page(request: Request) -> Response:
        return server.page("login.html", {"message": "", "version": _html_escape(__version__)})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        try:
            server.auth.check_origin(request)
        except AuthError as error:
            return error_response(error.status, error.message)
        form = parse_qs((await server.small_body(request)).decode("utf-8", "replace"))
        user = form.get("user", [""])[0].strip()
        password = form.get("password", [""])[0]
        who = await asyncio.to_thread(server.auth.login, user, password)
        if who is None:
            logger.warning("failed login")
            await asyncio.sleep(1.0)  # slows guessing down
            refused = server.page(
                "login.html", {"message": "The user name or password is wrong.", "version": _html_escape(__version__)}
            )
            refused.status_code = 401
            return refused
        session = server.auth.new_session(who)
        response = RedirectResponse("/", status_code=303)
        _set_cookie(response, request, session.id)
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        server.identify(request)
        server.auth.end_session(request)
        response = RedirectResponse("/login" if server.config.auth_required else "/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- the API -------------------------------------------------------------------------

    @app.get(
        "/api/health",
        summary="Is the server up, and what can it do",
        responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
    )
    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "publish": server.config.pacs is not None,
                "worklist": server.config.worklist is not None,
                "studies": server.config.studies is not None,
            }
        )

    @app.get(
        "/api/regions", summary="Body parts (CID 4031) and lateralities the page offers", responses=_errors(401, 403)
    )
    async def regions(request: Request) -> JSONResponse:
        server.identify(request)
        return JSONResponse(
            {
                "regions": [
                    {
                        "body_part": r.body_part,
                        "meaning": r.code[2],
                        "code": r.code[0],
                        "scheme": r.code[1],
                        "paired": r.paired,
                    }
                    for r in REGIONS
                ],
                "lateralities": [{"value": k, "meaning": v} for k, v in LATERALITIES.items()],
            }
        )

    @app.post(
        "/api/validate",
        summary="Check metadata (DICOM keywords) as the command line does; one message per field",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
            }
        },
        responses=_errors(400, 401, 403, 413),
    )
    async def validate_metadata(request: Request) -> JSONResponse:
        server.identify(request)
        try:
            data = json.loads(await server.small_body(request))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return error_response(400, "send a JSON object of DICOM keywords")
        if not isinstance(data, dict):
            return error_response(400, "send a JSON object of DICOM keywords")
        errors: dict[str, str] = {}
        checked: dict[str, Any] = {}
        for keyword, value in data.items():
            try:
                checked.update(validate({keyword: value}))
            except MetadataError as error:
                errors[str(keyword)] = str(error)
        return JSONResponse({"ok": not errors, "errors": errors, "metadata": checked, "fields": list(FIELDS)})

    @app.post(
        "/api/convert",
        summary="Convert pictures to DICOM",
        description='One picture: application/dicom. Several: multipart/related; type="application/dicom" '
        "(or a zip with Accept: application/zip). Any picture that cannot be converted fails the request.",
        openapi_extra=_UPLOAD_BODY,
        responses={
            200: {
                "description": "the DICOM object(s)",
                "content": {
                    "application/dicom": {"schema": {"type": "string", "format": "binary"}},
                    "multipart/related": {"schema": {"type": "string", "format": "binary"}},
                    "application/zip": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            **_errors(400, 401, 403, 413, 415, 422, 503),
        },
    )
    async def convert(request: Request) -> Response:
        server.identify(request)
        with server.pool.admit():
            upload = await server.upload(request)
            try:
                converted = await server.convert_all(upload, preview=False)
            except BaseException:
                remove_tree(upload.folder)
                raise
            failed = [item for item in converted if item.error]
            cleanup = BackgroundTask(remove_tree, upload.folder)
            if failed:
                remove_tree(upload.folder)
                return JSONResponse(
                    {"error": failed[0].error, "errors": [{"name": i.name, "error": i.error} for i in failed]},
                    status_code=failed[0].status,
                )
            logger.info("converted %d picture(s)", len(converted))
            paths = all_paths(converted)
            if "application/zip" in request.headers.get("accept", ""):
                from .responses import write_zip

                target = upload.folder / "dicom.zip"
                await asyncio.to_thread(write_zip, target, _zip_names(converted))
                return FileResponse(target, media_type="application/zip", filename="dicom.zip", background=cleanup)
            if len(paths) == 1:
                from .responses import download_name

                return FileResponse(
                    paths[0],
                    media_type="application/dicom",
                    filename=download_name(converted[0].name, 0),
                    background=cleanup,
                )
            from .responses import multipart_related, related_boundary

            boundary = related_boundary()
            return StreamingResponse(
                multipart_related(paths, boundary),
                media_type=f'multipart/related; type="application/dicom"; boundary={boundary}',
                background=cleanup,
            )

    @app.post(
        "/api/publish",
        summary="Convert pictures and send them to the PACS configured on this server",
        description="The outcome per picture is data: stored, stored-decoded, committed, uncommitted, unconfirmed, failed (with the reason) or "
        "not-converted (with the reason).",
        openapi_extra=_UPLOAD_BODY,
        responses={
            200: {"content": {"application/json": {"schema": _RESULTS_SCHEMA}}},
            **_errors(400, 401, 403, 409, 413, 415, 422, 503),
        },
    )
    async def publish(request: Request) -> Response:
        server.identify(request)
        if server.config.pacs is None:
            raise pacs.NotAvailable("no PACS is configured on this server: set [pacs] in the configuration")
        with server.pool.admit():
            upload = await server.upload(request)
            try:
                converted = await server.convert_all(upload, preview=False)
                return await server.publish(converted)
            finally:
                remove_tree(upload.folder)

    @app.post(
        "/api/stage",
        summary="Convert pictures and keep them here for a check: previews, attributes, warnings",
        description="The objects wait (for publish or download) under the returned id, for the owner only.",
        openapi_extra=_UPLOAD_BODY,
        responses={
            200: {"content": {"application/json": {"schema": {"type": "object"}}}},
            **_errors(400, 401, 403, 413, 415, 422, 503),
        },
    )
    async def stage(request: Request) -> Response:
        identity = server.identify(request)
        with server.pool.admit():
            upload = await server.upload(request)
            try:
                converted = await server.convert_all(upload, preview=True)
            except BaseException:
                remove_tree(upload.folder)
                raise
            batch = server.staging.add(identity.owner, upload.folder, converted)
            logger.info("staged %d picture(s), %d failed", len(converted), sum(1 for c in converted if c.error))
            return JSONResponse({"id": batch.id, "pictures": [item.as_json(with_preview=True) for item in converted]})

    def _staged(request: Request, batch_id: str) -> list[Converted]:
        identity = server.identify(request)
        batch = server.staging.get(batch_id, identity.owner)
        if batch is None:
            raise UploadError(404, "no such converted pictures here (expired, or converted by someone else)")
        return batch.items

    @app.post(
        "/api/stage/{batch_id}/publish",
        summary="Send pictures converted by /api/stage to the configured PACS (all, or ?index=N)",
        responses={
            200: {"content": {"application/json": {"schema": _RESULTS_SCHEMA}}},
            **_errors(401, 403, 404, 409, 422, 503),
        },
    )
    async def publish_staged(request: Request, batch_id: str, index: int | None = None) -> Response:
        """All pictures, or only picture ``index`` (the page sends them one by one to show progress)."""
        items = _staged(request, batch_id)
        if index is not None:
            if not 0 <= index < len(items):
                return error_response(404, f"there is no picture number {index} here")
            items = [items[index]]
        with server.pool.admit():
            return await server.publish(items)

    @app.get(
        "/api/stage/{batch_id}/files/{index}",
        summary="Download one converted picture (.dcm)",
        responses={
            200: {"content": {"application/dicom": {"schema": {"type": "string", "format": "binary"}}}},
            **_errors(401, 403, 404),
        },
    )
    async def download_staged(request: Request, batch_id: str, index: int) -> Response:
        from .responses import download_name

        items = _staged(request, batch_id)
        if not 0 <= index < len(items) or items[index].path is None:
            return error_response(404, f"there is no converted picture number {index} here")
        item = items[index]
        assert item.path is not None
        return FileResponse(item.path, media_type="application/dicom", filename=download_name(item.name, index))

    @app.get(
        "/api/stage/{batch_id}/zip",
        summary="Download every converted picture as a .zip",
        responses={
            200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}},
            **_errors(401, 403, 404),
        },
    )
    async def download_staged_zip(request: Request, batch_id: str) -> Response:
        from .responses import write_zip

        items = _staged(request, batch_id)
        files = _zip_names(items)
        if not files:
            return error_response(404, "none of these pictures could be converted")
        folder = Path(tempfile.mkdtemp(prefix="zip-", dir=server.private))
        target = folder / "dicom.zip"
        await asyncio.to_thread(write_zip, target, files)
        return FileResponse(
            target, media_type="application/zip", filename="dicom.zip", background=BackgroundTask(remove_tree, folder)
        )

    _QUERY = {
        200: {"content": {"application/json": {"schema": {"type": "object"}}}},
        **_errors(400, 401, 403, 409, 502),
    }

    async def _query(
        request: Request, function: Callable[..., list[Any]], destination: Any, allowed: tuple[str, ...]
    ) -> Response:
        server.identify(request)
        filters = {key: value for key, value in request.query_params.items() if key in allowed}
        unknown = sorted(set(request.query_params) - set(allowed))
        if unknown:
            return error_response(400, f"{unknown[0]!r} is not a filter here; use: {', '.join(allowed)}")
        try:
            items = await server.pool.run(function, destination, filters)
        except NetworkError as error:
            # Unreachable or refusing peer: 502; a filter that is not valid: 400.
            return error_response(502 if _is_query_failure(error) else 400, str(error))
        return JSONResponse({"items": items})

    @app.get("/api/worklist", summary="Scheduled procedures from the configured worklist", responses=_QUERY)
    async def worklist(
        request: Request,
        patient_name: str | None = None,
        patient_id: str | None = None,
        accession: str | None = None,
        date: str | None = None,
        modality: str | None = None,
        station_aet: str | None = None,
    ) -> Response:
        return await _query(request, pacs.find_worklist, server.config.worklist, pacs.WORKLIST_FILTERS)

    @app.get("/api/studies", summary="Studies of a patient in the configured PACS", responses=_QUERY)
    async def studies(
        request: Request,
        patient_id: str | None = None,
        accession: str | None = None,
        study_uid: str | None = None,
        date: str | None = None,
    ) -> Response:
        return await _query(request, pacs.find_studies, server.config.studies, pacs.STUDY_FILTERS)

    return app


def new_token() -> str:
    """A random API token for the configuration file."""
    return secrets.token_urlsafe(32)
