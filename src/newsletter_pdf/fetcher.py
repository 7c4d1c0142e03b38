"""A confining URL fetcher: WeasyPrint may read only what the issue is made of.

WeasyPrint's default fetcher reads any local file (absolute paths, ``../``, symlinks),
fetches any URL, and ``<link rel="attachment">`` embeds whatever it fetched into the PDF.
A newsletter that is then emailed to thousands must never carry a file from the editor's
machine, so this fetcher serves only:

* ``data:`` URLs;
* ``file:`` URLs of *regular files* whose real path (after ``..`` and symlinks) lies
  inside one of the allowed roots (the issue folder, the layout chain, the fonts folders);
* ``http(s):`` only when the user passed ``--allow-remote`` — no redirects, no proxies, a
  timeout, a size cap, and never to loopback, private, link-local or otherwise
  non-public addresses. The address is checked twice: when the host name is resolved and
  again on the connected socket, so a DNS answer that changes in between (DNS rebinding)
  cannot reach a local service either.

Everything else is refused and remembered, so the build can report it.
"""

from __future__ import annotations

import http.client
import ipaddress
import mimetypes
import os
import socket
import stat
from pathlib import Path
from urllib import request
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

MAX_RESOURCE_BYTES = 200 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0  # seconds, per remote request


class RefusedResource(ValueError):
    """Raised (and recorded) when a resource lies outside what the issue may use."""


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (what --allow-remote may reach)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
                or ip.is_multicast or ip.is_unspecified or not ip.is_global)


def inside(path: Path, roots: list[Path]) -> bool:
    """Is the real ``path`` one of ``roots`` or below one of them (all already real)?"""
    return any(path == root or root in path.parents for root in roots)


class _CheckedPeer:
    """Mixin for http.client connections: refuse once connected to a non-public peer."""

    def connect(self):  # noqa: D401 - http.client's hook
        super().connect()  # type: ignore[misc]
        peer = self.sock.getpeername()[0]  # type: ignore[attr-defined]
        if not is_public_address(peer):
            self.sock.close()  # type: ignore[attr-defined]
            raise RefusedResource(f"{self.host} connected to {peer}, a local or private "  # type: ignore[attr-defined]
                                  "address")


class _HTTPConnection(_CheckedPeer, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_CheckedPeer, http.client.HTTPSConnection):
    pass


class _HTTPHandler(request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_HTTPSConnection, req, context=self._context)


def _remote_opener() -> request.OpenerDirector:
    """http(s) only: no proxies (they would hide the peer), no redirects, no file/ftp."""
    opener = request.OpenerDirector()
    for handler in (request.ProxyHandler({}), _HTTPHandler(), _HTTPSHandler(),
                    request.HTTPDefaultErrorHandler(), request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def _image_too_large(body: bytes) -> str | None:
    """Why an image's header makes it unsafe to decode, or None (headers only: cheap)."""
    import io

    from PIL import Image

    from .images import MAX_PIXELS

    try:
        with Image.open(io.BytesIO(body)) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        return f"an image of more than {MAX_PIXELS // 1_000_000} megapixels"
    except Exception:
        return None  # not an image Pillow knows: WeasyPrint will refuse it itself
    if width * height > MAX_PIXELS:
        return (f"an image of {width} × {height} pixels (more than "
                f"{MAX_PIXELS // 1_000_000} megapixels)")
    return None


class ConfinedFetcher(URLFetcher):
    """Serve ``data:`` URLs and files inside ``roots``; remote only when allowed."""

    def __init__(self, roots: list[Path], allow_remote: bool = False,
                 timeout: float = DEFAULT_TIMEOUT, stand_ins: dict | None = None):
        super().__init__(timeout=timeout, allow_redirects=False, fail_on_errors=False)
        self.roots = [Path(os.path.realpath(r)) for r in roots]
        self.allow_remote = allow_remote
        self.timeout = timeout
        self.refused: list[tuple[str, str]] = []  # (url, reason)
        #: Photos being prepared (file path → (width, height, mode)): one not written yet
        #: is served as a stand-in (see standins.py), noted in ``stood_in`` (path → URL).
        self.stand_ins = stand_ins or {}
        self.stood_in: dict[str, str] = {}
        self._remote = _remote_opener()

    def fetch(self, url: str, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return self._data(url, headers)
        if scheme == "file":
            return self._file(url)
        if scheme in ("http", "https"):
            if not self.allow_remote:
                return self._refuse(url, "remote resources are off; pass --allow-remote")
            return self._http(url, headers)
        return self._refuse(url, f"the {scheme or 'empty'}: scheme is not allowed")

    # -- data: URLs ------------------------------------------------------------------------
    def _data(self, url: str, headers=None):
        """A data: URL gets the limits a file gets: size, and for an image the pixel
        count (a small PNG can claim 50,000 × 50,000 pixels and exhaust the render)."""
        if len(url) > MAX_RESOURCE_BYTES * 4 // 3 + 100:
            return self._refuse(url[:60] + "…", f"larger than {MAX_RESOURCE_BYTES // 2**20} MB")
        response = super().fetch(url, headers)
        body = response.read()
        mime = response.content_type or "application/octet-stream"
        response.close()
        response = URLFetcherResponse(url, body, {"Content-Type": mime})
        if body[:4] in (b"\x89PNG", b"GIF8", b"RIFF") or body[:2] == b"\xff\xd8":
            reason = _image_too_large(body)
            if reason:
                return self._refuse(url[:60] + "…", reason)
        return response

    # -- local files ---------------------------------------------------------------------
    def _file(self, url: str):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return self._refuse(url, "file URLs on other hosts are not allowed")
        path = url2pathname(unquote(parts.path))
        real = Path(os.path.realpath(path))
        if not inside(real, self.roots):
            return self._refuse(url, "outside the issue, layout and fonts folders")
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            # Open first, then check what was opened: no window for a swap in between,
            # and a FIFO or device (which could block or never end) is never read.
            fd = os.open(real, flags)
        except FileNotFoundError as exc:
            if str(real) in self.stand_ins:  # being prepared: its size is enough for now
                from .standins import stand_in

                self.stood_in[str(real)] = url
                return URLFetcherResponse(real.as_uri(), stand_in(*self.stand_ins[str(real)]),
                                          {"Content-Type": "image/jpeg"})
            return self._refuse(url, exc.strerror or "cannot read")
        except OSError as exc:
            return self._refuse(url, exc.strerror or "cannot read")
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return self._refuse(url, "not a regular file")
        with os.fdopen(fd, "rb") as handle:
            if info.st_size > MAX_RESOURCE_BYTES:
                return self._refuse(url, f"larger than {MAX_RESOURCE_BYTES // 2**20} MB")
            body = handle.read(MAX_RESOURCE_BYTES + 1)
        mime, _ = mimetypes.guess_type(str(real))
        return URLFetcherResponse(real.as_uri(), body,
                                  {"Content-Type": mime or "application/octet-stream"})

    # -- remote --------------------------------------------------------------------------
    def _http(self, url: str, headers=None):
        self._check_host(url)
        # Ask for the plain body: a small gzip stream could expand past the size cap.
        wanted = {**self._http_headers, **(headers or {}), "Accept-Encoding": "identity"}
        req = request.Request(url, headers=wanted)
        try:
            response = self._remote.open(req, timeout=self.timeout)
        except HTTPError as exc:
            if 300 <= exc.code < 400:
                return self._refuse(url, f"redirects are not followed (HTTP {exc.code} to "
                                    f"{exc.headers.get('Location', '?')})")
            return self._refuse(url, f"HTTP {exc.code} {exc.reason}")
        except RefusedResource as exc:
            return self._refuse(url, str(exc))
        except URLError as exc:
            reason = exc.reason
            if isinstance(reason, RefusedResource):
                return self._refuse(url, str(reason))
            return self._refuse(url, f"cannot fetch it: {reason}")
        except (OSError, http.client.HTTPException) as exc:  # timeouts, resets
            return self._refuse(url, f"cannot fetch it: {exc or type(exc).__name__}")
        with response:
            body = response.read(MAX_RESOURCE_BYTES + 1)
            if len(body) > MAX_RESOURCE_BYTES:
                return self._refuse(url, f"larger than {MAX_RESOURCE_BYTES // 2**20} MB")
            if response.headers.get("Content-Encoding"):
                return self._refuse(url, "compressed responses are not accepted")
            return URLFetcherResponse(response.url, body, dict(response.headers),
                                      response.status)

    def _check_host(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        if not host:
            self._refuse(url, "no host name")
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError as exc:
            self._refuse(url, f"cannot resolve {host}: {exc}")
        for info in infos:
            if not is_public_address(info[4][0]):
                self._refuse(url, f"{host} is a local or private address")

    def _refuse(self, url: str, reason: str):
        self.refused.append((url, reason))
        raise RefusedResource(f"refused {url}: {reason}")
