"""Sending the email edition: the PDF to send, the SMTP connection and the delivery loop.

One SMTP connection is reused for every message and reopened when the server drops it.
Each message is one SMTP transaction driven command by command, so the journal
(:mod:`journal`) can record the exact moment the message may reach the server:

``MAIL FROM`` → ``RCPT TO`` → journal ``sending`` (committed) → ``DATA`` → 354 → the
message → 250 → journal ``sent``.

A refusal before the message is handed over is a *known* outcome: 4xx is retried later
with exponential backoff (bounded), 5xx is recorded as failed. A connection lost before
the 354 is safe to retry; lost after the message went out, the outcome is *unknown*.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NewsletterError, UsageError, display_path
from .journal import Journal
from .mail import MessageFactory, Recipient

SECURITY = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


# --------------------------------------------------------------------------- the PDF


def email_pdf_path(manifest, out_dir: Path) -> Path:
    """Where the build writes the email edition (``<slug>-email.pdf``)."""
    from .outputs import pdf_path

    return pdf_path(out_dir, manifest, "email")


def build_email_pdf(manifest, out_dir: Path, allow_remote: bool = False):
    """Build only the email edition; returns its Built record and the warnings."""
    from .build import build_issue

    result = build_issue(manifest.path, out_dir=out_dir, editions=("email",),
                         allow_remote=allow_remote)
    return result.outputs["email"], list(result.warnings)


#: The issue's own email templates (subject.txt, body.html): not a source of the PDF.
TEMPLATE_FOLDER = "email"


def newest_source(manifest, layout_folders: list[Path],
                  exclude: list[Path]) -> tuple[float, Path | None]:
    """The newest file among the issue's sources and the layout's (email templates and
    anything under ``exclude`` — the build folder — do not count)."""
    newest, which = 0.0, None
    skip = [p.resolve() for p in exclude]
    roots = [manifest.folder, *layout_folders]
    for root in roots:
        top = Path(root).resolve()
        for dirpath, dirnames, filenames in os.walk(top):
            here = Path(dirpath).resolve()
            dirnames[:] = [d for d in dirnames
                           if not d.startswith(".") and (here / d) not in skip
                           and not (d == TEMPLATE_FOLDER and here == top)]
            for name in filenames:
                if name.startswith("."):
                    continue
                try:
                    mtime = (here / name).stat().st_mtime
                except OSError:
                    continue
                if mtime > newest:
                    newest, which = mtime, here / name
    return newest, which


def pdf_is_stale(pdf: Path, manifest, layout_folders: list[Path], out_dir: Path) -> str:
    """'' if the email PDF is up to date, else why it must be (re)built."""
    if not pdf.is_file():
        return "it does not exist yet"
    newest, which = newest_source(manifest, layout_folders, [out_dir])
    if newest > pdf.stat().st_mtime:
        return f"{display_path(which)} is newer"
    return ""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def preflight_email(path: Path, budget_bytes: int) -> list[str]:
    """Failures of the email preflight ([] when it passes or is unavailable)."""
    try:
        from .preflight import preflight_pdf
    except ImportError:  # pragma: no cover - the preflight module is optional
        return []
    report = preflight_pdf(path, purpose="email", budget_bytes=budget_bytes)
    return [] if report.ok else [str(f) for f in report.failures]


# --------------------------------------------------------------------------- SMTP


@dataclass
class SmtpSettings:
    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: str | None = None
    timeout: float = 60.0
    ca_file: Path | None = None

    def describe(self) -> str:
        who = f" as {self.user}" if self.user else ""
        return f"{self.host}:{self.port} ({self.security}{who})"


class FatalSmtpError(NewsletterError):
    """The server cannot be used at all (refused login, bad certificate, no STARTTLS)."""


class Connection:
    """One reusable SMTP connection, opened lazily and reopened after a drop."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None
        self.opened = 0  # how many connections were made (for the summary and tests)

    def _context(self) -> ssl.SSLContext:
        ca = self.settings.ca_file
        return ssl.create_default_context(cafile=str(ca) if ca else None)

    def ensure(self) -> smtplib.SMTP:
        if self.smtp is not None:
            return self.smtp
        s = self.settings
        try:
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                        context=self._context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            try:
                smtp.ehlo()
                if s.security == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise FatalSmtpError(f"{s.host}:{s.port} does not offer STARTTLS; use "
                                             "--smtp-security tls (port 465) or, on a trusted "
                                             "network only, none")
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
                if s.user:
                    _login(smtp, s.user, s.password or "")
            except BaseException:
                _close_quietly(smtp)
                raise
        except ssl.SSLCertVerificationError as exc:
            raise FatalSmtpError(f"the certificate of {s.host} is not trusted: "
                                 f"{exc.verify_message}; give its CA with --smtp-ca-file "
                                 "(or NEWSLETTER_SMTP_CA_FILE)") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise FatalSmtpError(f"{s.host} refused the login for {s.user}: {exc.smtp_code} "
                                 f"{_text(exc.smtp_error)}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise FatalSmtpError(f"{s.host}: {exc}") from exc
        self.smtp = smtp
        self.opened += 1
        return smtp

    def drop(self) -> None:
        """Forget the connection without talking to the server (it is gone or broken)."""
        if self.smtp is not None:
            _close_quietly(self.smtp)
            self.smtp = None

    def quit(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.drop()

    def reset(self) -> None:
        """RSET after a refused transaction; a failing RSET drops the connection."""
        if self.smtp is None:
            return
        try:
            code, _ = self.smtp.rset()
            if code != 250:
                self.drop()
        except (OSError, smtplib.SMTPException):
            self.drop()


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib's login, and AUTH PLAIN in UTF-8 (RFC 4616) for non-ASCII credentials,
    which smtplib cannot send."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    if "PLAIN" not in smtp.esmtp_features["auth"].upper().split():
        raise FatalSmtpError("a non-ASCII user name or password needs AUTH PLAIN, which "
                             "the server does not offer")
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
    code, resp = smtp.docmd("AUTH", "PLAIN " + token)
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, resp)


def _close_quietly(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except Exception:
        pass


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())


def data_payload(message: bytes) -> bytes:
    """CRLF line ends, leading dots doubled, terminated by CRLF.CRLF (RFC 5321 4.5.2)."""
    data = message.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    data = data.replace(b"\r\n.", b"\r\n..")
    if data.startswith(b"."):
        data = b"." + data
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


# --------------------------------------------------------------------------- delivery


@dataclass
class Policy:
    rate_per_minute: float = 0  # 0: as fast as the server takes them
    max_attempts: int = 5  # per recipient per run, for temporary failures
    retry_delay: float = 5.0  # first backoff; doubles each time
    max_delay: float = 300.0
    reconnects: int = 5  # consecutive failed connection attempts before giving up


@dataclass
class Report:
    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, int | None, str]] = field(default_factory=list)  # permanent
    deferred: list[tuple[str, int | None, str]] = field(default_factory=list)  # 4xx exhausted
    unknown: list[tuple[str, str]] = field(default_factory=list)
    aborted: str = ""
    interrupted: bool = False
    connections: int = 0
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return len(self.sent) + len(self.failed) + len(self.deferred) + len(self.unknown)


@dataclass
class _Outcome:
    kind: str  # sent | temporary | permanent | unknown | dropped
    code: int | None = None
    text: str = ""


class Deliverer:
    """Sends every job once, recording each step in the journal before it happens."""

    def __init__(self, *, journal: Journal, distribution: str, factory: MessageFactory,
                 connection: Connection, envelope_from: str, policy: Policy,
                 progress: Callable[[Report, Recipient], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.journal = journal
        self.dist = distribution
        self.factory = factory
        self.conn = connection
        self.envelope_from = envelope_from
        self.policy = policy
        self.progress = progress
        self.sleep = sleep
        self._next_slot = 0.0
        self._interrupted_unknown: Recipient | None = None

    def run(self, recipients: list[Recipient]) -> Report:
        report = Report()
        started = time.monotonic()
        queue: list[tuple[float, int, int, Recipient]] = [
            (0.0, i, 0, r) for i, r in enumerate(recipients)]  # (ready at, order, tries, r)
        heapq.heapify(queue)
        order = len(queue)
        connect_failures = 0
        try:
            while queue:
                ready, _, tries, recipient = heapq.heappop(queue)
                wait = ready - time.monotonic()
                if wait > 0:
                    self.sleep(wait)
                self._throttle()
                try:
                    self.conn.ensure()
                except FatalSmtpError as exc:
                    report.aborted = str(exc)
                    break
                except (OSError, smtplib.SMTPException) as exc:
                    connect_failures += 1
                    if connect_failures >= self.policy.reconnects:
                        report.aborted = (f"cannot connect to {self.conn.settings.describe()}: "
                                          f"{_describe_error(exc)}")
                        break
                    heapq.heappush(queue, (time.monotonic() + self._backoff(connect_failures),
                                           -1, tries, recipient))  # first in line again
                    continue
                connect_failures = 0
                outcome = self._attempt(recipient)
                key = recipient.key
                if outcome.kind == "sent":
                    report.sent.append(recipient.email)
                elif outcome.kind == "permanent":
                    self.journal.mark(self.dist, key, "failed", outcome.code, outcome.text)
                    report.failed.append((recipient.email, outcome.code, outcome.text))
                elif outcome.kind == "unknown":
                    report.unknown.append((recipient.email, outcome.text))
                else:  # temporary or dropped before the message was handed over
                    tries += 1
                    if tries >= self.policy.max_attempts:
                        self.journal.mark(self.dist, key, "failed", outcome.code or 0,
                                          f"gave up after {tries} attempts: {outcome.text}")
                        report.deferred.append((recipient.email, outcome.code, outcome.text))
                    else:
                        self.journal.mark(self.dist, key, "pending", outcome.code,
                                          outcome.text)
                        order += 1
                        heapq.heappush(queue, (time.monotonic() + self._backoff(tries), order,
                                               tries, recipient))
                        continue
                if self.progress:
                    self.progress(report, recipient)
        except KeyboardInterrupt:
            report.interrupted = True
            if self._interrupted_unknown is not None:
                report.unknown.append((self._interrupted_unknown.email,
                                       "interrupted while sending"))
        finally:
            report.connections = self.conn.opened
            self.conn.quit()
            report.seconds = time.monotonic() - started
        return report

    def _backoff(self, n: int) -> float:
        return min(self.policy.retry_delay * 2 ** (n - 1), self.policy.max_delay)

    def _throttle(self) -> None:
        if self.policy.rate_per_minute <= 0:
            return
        interval = 60.0 / self.policy.rate_per_minute
        now = time.monotonic()
        if self._next_slot > now:
            self.sleep(self._next_slot - now)
            now = self._next_slot
        self._next_slot = now + interval

    def _refused(self, code: int, text) -> _Outcome:
        text = f"{code} {_text(text)}"
        if code == 421:  # the server is closing the connection
            self.conn.drop()
            return _Outcome("temporary", code, text)
        self.conn.reset()
        return _Outcome("temporary" if 400 <= code < 500 else "permanent", code, text)

    def _attempt(self, recipient: Recipient) -> _Outcome:
        """One SMTP transaction for one recipient (see the module documentation)."""
        smtp = self.conn.smtp
        key = recipient.key
        try:
            code, resp = smtp.mail(self.envelope_from)
            if code != 250:
                return self._refused(code, resp)
            code, resp = smtp.rcpt(recipient.email)
            if code not in (250, 251):
                return self._refused(code, resp)
        except (OSError, smtplib.SMTPException) as exc:
            self.conn.drop()
            return _Outcome("dropped", None, f"connection lost: {_describe_error(exc)}")
        payload = data_payload(self.factory.build_bytes(recipient))
        self.journal.mark_sending(self.dist, key, self.factory.message_id(recipient))
        handed_over = False
        try:
            try:
                smtp.putcmd("data")
                code, resp = smtp.getreply()
            except (OSError, smtplib.SMTPException) as exc:
                self.conn.drop()
                self.journal.mark(self.dist, key, "pending", None, _describe_error(exc))
                return _Outcome("dropped", None, f"connection lost: {_describe_error(exc)}")
            if code != 354:
                outcome = self._refused(code, resp)
                if outcome.kind == "temporary":
                    self.journal.mark(self.dist, key, "pending", code, outcome.text)
                return outcome
            handed_over = True
            try:
                smtp.send(payload)
                code, resp = smtp.getreply()
            except (OSError, smtplib.SMTPException) as exc:
                self.conn.drop()
                why = f"connection lost after the message was sent: {_describe_error(exc)}"
                self.journal.mark(self.dist, key, "unknown", None, why)
                return _Outcome("unknown", None, why)
            if code == 250:
                self.journal.mark(self.dist, key, "sent", 250)
                return _Outcome("sent", 250)
            outcome = self._refused(code, resp)
            if outcome.kind == "temporary":
                self.journal.mark(self.dist, key, "pending", code, outcome.text)
            return outcome
        except BaseException:
            # Interrupted (Ctrl-C) between 'sending' and a recorded result.
            self.conn.drop()
            self.journal.mark(self.dist, key, "unknown" if handed_over else "pending", None,
                              "interrupted while sending")
            if handed_over:
                self._interrupted_unknown = recipient
            raise


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, socket.timeout):
        return "timed out"
    return str(exc) or type(exc).__name__


def take_password() -> str | None:
    """NEWSLETTER_SMTP_PASSWORD, removed from the environment (``send`` calls this before
    anything else), so no render child, template or subprocess started afterwards
    inherits it."""
    return os.environ.pop("NEWSLETTER_SMTP_PASSWORD", None)


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() in ("localhost", "localhost.localdomain") or \
            host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def settings_from(host: str | None, port: int | None, security: str | None, user: str | None,
                  ca_file: Path | None, timeout: float, password_prompt=None,
                  insecure_auth: bool = False, password: str | None = None) -> SmtpSettings:
    """SMTP settings from options, falling back to NEWSLETTER_SMTP_* variables.

    The password only ever comes from ``password`` (what :func:`take_password` took from
    ``NEWSLETTER_SMTP_PASSWORD``), that variable itself, or ``password_prompt``.
    """
    env = os.environ
    host = host or env.get("NEWSLETTER_SMTP_HOST")
    if not host:
        raise UsageError("no SMTP server: give --smtp-host or set NEWSLETTER_SMTP_HOST "
                         "(see README, 'Sending by email')")
    security = (security or env.get("NEWSLETTER_SMTP_SECURITY") or "starttls").lower()
    if security not in SECURITY:
        raise UsageError(f"SMTP security {security!r} is not one of none, starttls, tls")
    if port is None and env.get("NEWSLETTER_SMTP_PORT"):
        try:
            port = int(env["NEWSLETTER_SMTP_PORT"])
        except ValueError:
            raise UsageError(f"NEWSLETTER_SMTP_PORT={env['NEWSLETTER_SMTP_PORT']!r} is not a "
                             "port number") from None
    port = port or DEFAULT_PORTS[security]
    user = user or env.get("NEWSLETTER_SMTP_USER") or None
    ca = ca_file or (Path(env["NEWSLETTER_SMTP_CA_FILE"]) if env.get("NEWSLETTER_SMTP_CA_FILE")
                     else None)
    if ca is not None and not Path(ca).is_file():
        raise UsageError(f"CA file {ca} not found")
    if user and security == "none" and not insecure_auth and not _is_loopback(host):
        raise UsageError(f"--smtp-security none would send the password for {user} to {host} "
                         "in clear text; use starttls or tls, or pass --insecure-auth if this "
                         "network really is private")
    if not user:
        password = None
    else:
        password = password if password is not None else take_password()
        if password is None:
            if password_prompt is None:
                raise UsageError(f"the SMTP password for {user} is needed: set "
                                 "NEWSLETTER_SMTP_PASSWORD (it is never read from the "
                                 "command line or the manifest)")
            password = password_prompt(user)
    return SmtpSettings(host, port, security, user, password, timeout, Path(ca) if ca else None)
