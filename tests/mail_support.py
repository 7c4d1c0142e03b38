"""Support for the mail tests: a real aiosmtpd server on loopback that records what it
accepts (and misbehaves on request), and a small issue with its email PDF built once.
The fixtures are registered in conftest.py."""
from __future__ import annotations

import email
import email.policy
import os
import shutil
import signal
import socket
import sqlite3
import textwrap
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter_pdf.cli import main

from .conftest import DEFAULT_MANIFEST, SAMPLE

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

DISTRIBUTION = """\
distribution:
  from_address: newsletter@iomiraq.example
  from_name: Tëst Newsletter
  reply_to: replies@iomiraq.example
  unsubscribe_mailto: unsubscribe@iomiraq.example
  unsubscribe_url: https://iomiraq.example/unsubscribe
"""


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """An aiosmtpd handler that stores what it accepts and misbehaves on request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list[tuple[list[str], bytes]] = []
        self.sessions: set[int] = set()
        self.tempfail: dict[str, int] = {}  # rcpt -> how many 451s at the end of DATA
        self.refuse: set[str] = set()  # rcpt -> 550 at RCPT
        self.drop_every = 0  # close the connection at MAIL after this many per connection
        self.drop_in_data: set[str] = set()  # close during DATA, message not stored (once)
        self.kill: tuple[int, int, str] | None = None  # (pid, after n messages, 'data'|'rcpt')

    def received(self, rcpt: str) -> list[bytes]:
        return [data for tos, data in self.messages if rcpt in tos]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.sessions.add(id(session))
        done = getattr(session, "done", 0)
        if self.drop_every and done and done % self.drop_every == 0 and not getattr(
                session, "dropped", False):
            session.dropped = True
            server.transport.close()
            return "421 gone"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        if self.kill and self.kill[2] == "rcpt" and len(self.messages) >= self.kill[1]:
            os.kill(self.kill[0], signal.SIGKILL)
            self.kill = None
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpt = envelope.rcpt_tos[0]
        if rcpt in self.drop_in_data:
            self.drop_in_data.discard(rcpt)
            server.transport.close()
            return "451 gone"
        if self.tempfail.get(rcpt):
            self.tempfail[rcpt] -= 1
            return "451 4.7.1 greylisted, try again later"
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        session.done = getattr(session, "done", 0) + 1
        if self.kill and self.kill[2] in ("data", "sigint") and len(self.messages) >= self.kill[1]:
            # stored, but the 250 never arrives
            os.kill(self.kill[0], signal.SIGKILL if self.kill[2] == "data" else signal.SIGINT)
            self.kill = None
        return "250 2.0.0 queued"


@pytest.fixture
def smtp_server():
    """Factory: start a Recorder-backed aiosmtpd on 127.0.0.1 (stopped after the test)."""
    controllers = []

    def start(**kwargs):
        handler = Recorder()
        port = free_port()
        controller = aiosmtpd_controller.Controller(handler, hostname="127.0.0.1", port=port,
                                                    **kwargs)
        controller.start()
        controllers.append(controller)
        handler.port = port
        return handler

    yield start
    for controller in controllers:
        controller.stop()


# --------------------------------------------------------------------------- the issue


@pytest.fixture(scope="module")
def built_issue(tmp_path_factory):
    """A small issue with a distribution section and its email PDF, built once."""
    from newsletter_pdf.errors import Problems
    from newsletter_pdf.manifest import load_manifest
    from newsletter_pdf.send import build_email_pdf

    root = tmp_path_factory.mktemp("send")
    folder = root / "issue"
    (folder / "articles").mkdir(parents=True)
    (folder / "photos").mkdir()
    shutil.copy(SAMPLE / "photos" / "road-storm.jpg", folder / "photos" / "road.jpg")
    (folder / "articles" / "news.md").write_text(
        "---\ntitle: Small News\n---\n\nA first paragraph of small news.\n\n"
        "A second paragraph.\n", encoding="utf-8")
    manifest = textwrap.dedent(DEFAULT_MANIFEST).replace(
        "caption: The road again.", "caption: The road again.\n        alt: A road.")
    manifest = manifest.replace("caption: A road.", "caption: A road.\n  alt: A road.")
    (folder / "issue.yaml").write_text(manifest + DISTRIBUTION, encoding="utf-8")
    problems = Problems()
    m = load_manifest(folder, problems)
    built, _ = build_email_pdf(m, root / "build")
    return folder, Path(built.path)


class Issue:
    def __init__(self, folder: Path, out: Path, pdf: Path, tmp: Path):
        self.folder, self.out, self.pdf, self.tmp = folder, out, pdf, tmp

    def recipients(self, rows: list[tuple[str, str]] | int, extra: str = "") -> Path:
        if isinstance(rows, int):
            rows = [(f"user{i:03d}@example.org", f"User {i}") for i in range(rows)]
        path = self.tmp / "recipients.csv"
        lines = ["email,name" + ("," + extra.split("=")[0] if extra else "")]
        for address, name in rows:
            lines.append(f"{address},{name}" + ("," + extra.split("=")[1] if extra else ""))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def journal(self) -> dict[str, tuple[str, int | None, int]]:
        db = sqlite3.connect(self.out / "send-journal.sqlite")
        try:
            return {e: (s, c, a) for e, s, c, a in db.execute(
                "SELECT email, state, last_code, attempts FROM recipients")}
        finally:
            db.close()


@pytest.fixture
def issue(built_issue, tmp_path):
    folder, pdf = built_issue
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy2(pdf, out / pdf.name)
    return Issue(folder, out, out / pdf.name, tmp_path)


def smtp_args(server, *more) -> list[str]:
    return ["--smtp-host", "127.0.0.1", "--smtp-port", str(server.port),
            "--smtp-security", "none", "--retry-delay", "0.01", *more]


def run_send(issue: Issue, csv: Path, *args, env=None):
    runner = CliRunner()
    base_env = {k: None for k in os.environ if k.startswith("NEWSLETTER_SMTP_")}
    base_env.update(env or {})
    return runner.invoke(main, ["send", str(issue.folder), "--to", str(csv), "-o",
                                str(issue.out), "--no-rebuild", *args],
                         env=base_env, catch_exceptions=False)


def attachment_of(data: bytes):
    msg = email.message_from_bytes(data, policy=email.policy.default)
    parts = list(msg.iter_attachments())
    assert len(parts) == 1
    return msg, parts[0]


