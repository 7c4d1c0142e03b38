"""A confining URL fetcher: WeasyPrint may read only what the issue is made of.

WeasyPrint's default fetcher reads any local file (absolute paths, ``../``, symlinks),
fetches any URL, and ``<link rel="attachment">`` embeds whatever it fetched into the PDF.
A newsletter that is then emailed to thousands must never carry a file from the editor's
machine, so this fetcher serves only:

* ``data:`` URLs;
* ``file:`` URLs of *regular files* whose real path (after ``..`` and symlinks) lies
  inside one of the allowed roots (the issue folder, the layout chain, the fonts folders);
* ``http(s):`` only when the user passed ``--allow-remote`` — no redirects, a timeout,
  and never to loopback, private or link-local addresses.

Everything else is refused and remembered, so the build can report it.
"""

from __future__ import annotations

import ipaddress
import mimetypes
import os
import socket
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

MAX_RESOURCE_BYTES = 200 * 1024 * 1024


class RefusedResource(ValueError):
    """Raised (and recorded) when a resource lies outside what the issue may use."""


class ConfinedFetcher(URLFetcher):
    """Serve ``data:`` URLs and files inside ``roots``; remote only when allowed."""

    def __init__(self, roots: list[Path], allow_remote: bool = False, timeout: float = 10):
        super().__init__(timeout=timeout, allow_redirects=False, fail_on_errors=False)
        self.roots = [Path(os.path.realpath(r)) for r in roots]
        self.allow_remote = allow_remote
        self.refused: list[tuple[str, str]] = []  # (url, reason)

    def fetch(self, url: str, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            return self._file(url)
        if scheme in ("http", "https"):
            if not self.allow_remote:
                return self._refuse(url, "remote resources are off; pass --allow-remote")
            self._check_host(url)
            return super().fetch(url, headers)
        return self._refuse(url, f"the {scheme}: scheme is not allowed")

    def _file(self, url: str):
        path = url2pathname(unquote(urlsplit(url).path))
        real = Path(os.path.realpath(path))
        if not any(real == root or root in real.parents for root in self.roots):
            return self._refuse(url, "outside the issue, layout and fonts folders")
        try:
            info = os.stat(real)
        except OSError as exc:
            return self._refuse(url, exc.strerror or "cannot read")
        if not stat.S_ISREG(info.st_mode):
            return self._refuse(url, "not a regular file")
        if info.st_size > MAX_RESOURCE_BYTES:
            return self._refuse(url, "larger than 200 MB")
        mime, _ = mimetypes.guess_type(str(real))
        body = real.read_bytes()
        return URLFetcherResponse(real.as_uri(), body,
                                  {"Content-Type": mime or "application/octet-stream"})

    def _check_host(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError as exc:
            self._refuse(url, f"cannot resolve {host}: {exc}")
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if (address.is_private or address.is_loopback or address.is_link_local
                    or address.is_reserved or address.is_multicast
                    or address.is_unspecified):
                self._refuse(url, f"{host} is a local or private address")

    def _refuse(self, url: str, reason: str):
        self.refused.append((url, reason))
        raise RefusedResource(f"refused {url}: {reason}")
