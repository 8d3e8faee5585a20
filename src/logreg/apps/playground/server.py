"""The playground's web server: the page, its static files, uploads, exports, the WebSocket.

``create_app()`` builds the Starlette application; ``serve()`` runs it with uvicorn. Every tab
opens one WebSocket (``/ws``) and owns one :class:`~logreg.apps.playground.session.Session`,
freed when the socket closes; no state is shared between sessions. Each message is answered
by exactly one message; a message that cannot be handled (bad JSON, a value out of range, a
bad CSV column, any exception) is answered by ``{"type": "error", "message": ...}`` and the
socket stays open. Training steps run in Starlette's thread pool, so several tabs progress at
once.
"""

import asyncio
import json
import socket
import sys
import threading
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from logreg.errors import InvalidInputError, LogregError
from logreg.apps.playground.datasets import DATASETS, MAX_UPLOAD_BYTES
from logreg.apps.playground.features import FEATURES
from logreg.apps.playground.session import LIMITS, Session

STATIC = Path(__file__).parent / "static"
MAX_SESSIONS = 32
DEFAULT_PORT = 8765
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class Sessions:
    """The live sessions, one per open WebSocket, with a cap on how many.

    Parameters
    ----------
    limit : int
        The most sessions at once; one more is refused with a clear error.
    """

    def __init__(self, limit=MAX_SESSIONS):
        self.limit = limit
        self._sessions = {}
        self._lock = threading.Lock()

    def open(self):
        """A new session, or ``InvalidInputError`` when ``limit`` are live.

        Returns
        -------
        Session
        """
        with self._lock:
            if len(self._sessions) >= self.limit:
                raise InvalidInputError(
                    f"{self.limit} playground tabs are open, the most this server keeps; "
                    f"close a tab and reload this one.")
            session = Session()
            self._sessions[session.id] = session
            return session

    def close(self, session):
        """Free a session (its tab closed).

        Parameters
        ----------
        session : Session
        """
        with self._lock:
            self._sessions.pop(session.id, None)

    def get(self, session_id):
        """The live session of this id, or None.

        Parameters
        ----------
        session_id : str

        Returns
        -------
        Session or None
        """
        with self._lock:
            return self._sessions.get(session_id)

    def __len__(self):
        with self._lock:
            return len(self._sessions)


def _one_line(error):
    """An exception as one line for the page: logreg's message as it is, others named."""
    text = " ".join(str(error).split())
    if isinstance(error, (LogregError, ValueError, TypeError)) and text:
        return text
    return f"the server could not handle this ({type(error).__name__}: {text or 'no detail'})"


def _error(status, message):
    return JSONResponse({"error": message}, status_code=status)


def create_app(max_sessions=MAX_SESSIONS):
    """The playground's Starlette application.

    Parameters
    ----------
    max_sessions : int
        The most tabs (WebSocket sessions) served at once.

    Returns
    -------
    starlette.applications.Starlette
        Routes: ``/`` (the page), ``/static/...``, ``POST /api/upload``,
        ``/api/export/model``, ``/api/export/snippet``, ``/api/health`` and the WebSocket
        ``/ws``. ``app.state.sessions`` holds the live sessions.
    """
    app = Starlette(routes=[
        Route("/", _index),
        Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static"),
        Route("/api/upload", _upload, methods=["POST"]),
        Route("/api/export/model", _export_model),
        Route("/api/export/snippet", _export_snippet),
        Route("/api/health", _health),
        WebSocketRoute("/ws", _websocket),
    ])
    app.state.sessions = Sessions(max_sessions)
    return app


def _session_of(request):
    """(the live session the request names, None), or (None, the 404 reply saying it is
    gone)."""
    session_id = request.query_params.get("session", "")
    session = request.app.state.sessions.get(session_id)
    if session is None:
        return None, _error(404, f"no live session {session_id!r:.40}: the tab's "
                                 f"connection was closed; reload the page.")
    return session, None


async def _index(request):
    """The page."""
    page = STATIC / "index.html"
    if not page.is_file():
        return PlainTextResponse("the playground's page is missing from this "
                                 "installation (logreg/playground/static/index.html); "
                                 "reinstall logreg.", status_code=500)
    return FileResponse(page, media_type="text/html")


async def _health(request):
    """How many sessions are live."""
    return JSONResponse({"sessions": len(request.app.state.sessions)})


async def _upload(request):
    """A CSV for the session, read up to ``MAX_UPLOAD_BYTES`` and handed to it."""
    session, missing = _session_of(request)
    if missing:
        return missing
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        return _error(413, f"the file has {int(declared)} bytes; at most "
                           f"{MAX_UPLOAD_BYTES} (2 MiB): upload a sample of the rows.")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_UPLOAD_BYTES:
            return _error(413, f"the file is larger than {MAX_UPLOAD_BYTES} bytes "
                               f"(2 MiB); upload a sample of the rows.")
    try:
        reply = await run_in_threadpool(session.upload, bytes(body))
    except Exception as error:  # a bad file: one line, the server keeps serving
        return _error(400, _one_line(error))
    return JSONResponse(reply)


async def _download(request, make, media_type, filename):
    """The session's export ``make(session)`` as a file to save, or one line of error."""
    session, missing = _session_of(request)
    if missing:
        return missing
    try:
        content = await run_in_threadpool(make, session)
    except Exception as error:
        return _error(400, _one_line(error))
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


async def _export_model(request):
    """The session's model file."""
    from logreg.apps.playground.export import model_bytes

    return await _download(request, model_bytes, "application/octet-stream",
                           "playground-model.safetensors")


async def _export_snippet(request):
    """The session's run as a Python script."""
    from logreg.apps.playground.export import snippet

    return await _download(request, snippet, "text/x-python", "playground_run.py")


async def _websocket(ws: WebSocket):
    """One tab's session, from its hello to its socket's close: each message answered by
    exactly one message."""
    sessions = ws.app.state.sessions
    await ws.accept()
    try:
        session = await run_in_threadpool(sessions.open)
    except Exception as error:
        await ws.send_text(json.dumps({"type": "error", "message": _one_line(error)}))
        await ws.close(code=1013)
        return
    try:
        await ws.send_text(json.dumps({
            "type": "hello", "session": session.id, "datasets": list(DATASETS),
            "features": list(FEATURES), "limits": LIMITS}))
        while True:
            text = await ws.receive_text()
            await ws.send_text(await _reply(session, text))
    except (WebSocketDisconnect, OSError, RuntimeError):  # the tab went away mid-reply
        pass
    finally:
        sessions.close(session)


async def _reply(session, text):
    """The encoded answer to one message: the session's reply, or an error (never a dead
    socket)."""
    try:
        try:
            message = json.loads(text)
        except ValueError:
            raise InvalidInputError(
                f"the message {text!r:.40} is not JSON; send a JSON object such "
                f"as {{\"type\": \"step\"}}.") from None
        reply = await run_in_threadpool(session.handle, message)
        return json.dumps(reply, allow_nan=False)
    except Exception as error:  # never a dead socket: an error reply
        return json.dumps({"type": "error", "message": _one_line(error)})


def check_port_free(host, port):
    """Bind the address once, so a port in use is a one-line error before the server starts.

    Parameters
    ----------
    host : str
    port : int
        0 picks a free port.

    Returns
    -------
    socket.socket
        The bound socket, for the server to use (so a port 0 stays the one chosen).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        reason = ("is in use" if getattr(error, "errno", None) in (48, 98, 10048)
                  else f"cannot be bound ({error.strerror or error})")
        raise InvalidInputError(f"{host}:{port} {reason}; choose another with --port N "
                                f"(--port 0 picks a free one).") from None
    return sock


def serve(host="127.0.0.1", port=DEFAULT_PORT, open_browser=True):
    """Run the playground until Ctrl-C: print its URL, open the browser, stop cleanly.

    Parameters
    ----------
    host : str
        The address to listen on; anything but 127.0.0.1 or localhost warns that anyone who
        can reach it can use the playground.
    port : int
        The port (0: a free one, printed).
    open_browser : bool
        Open the page with Python's ``webbrowser``.

    Returns
    -------
    int
        The exit status: 0 after Ctrl-C.
    """
    import uvicorn

    sock = check_port_free(host, port)
    try:  # from here on, Ctrl-C (even during the first print) stops cleanly
        if host not in LOCAL_HOSTS:
            print(f"logreg playground: warning: listening on {host}: anyone who can reach "
                  f"this address can use the playground.", file=sys.stderr, flush=True)
        port = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}/"
        server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning",
                                               lifespan="off"))
        sock.listen(128)
        print(f"logreg playground: {url} (Ctrl-C stops it)", flush=True)
        if open_browser:
            import webbrowser

            opener = threading.Timer(0.5, webbrowser.open, args=(url,))
            opener.daemon = True  # a Ctrl-C at once does not wait for it
            opener.start()
        asyncio.run(server.serve(sockets=[sock]))
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled, once stopped
        pass
    finally:
        sock.close()
    print("stopped", flush=True)
    return 0
