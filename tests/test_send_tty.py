"""`newsletter send` at a real terminal: it shows the plan and asks before sending."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from .mail_support import smtp_args


def converse(args: list[str], answer: str, timeout: float = 60) -> tuple[int, str]:
    """Run the command on a pseudo-terminal; answer the confirmation prompt."""
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_SMTP_")}
    process = subprocess.Popen([sys.executable, "-m", "newsletter_pdf.cli", *args],
                               stdin=secondary, stdout=secondary, stderr=secondary,
                               env=env, close_fds=True)
    os.close(secondary)
    seen = b""
    answered = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"[y/N]" in seen:
                os.write(primary, answer.encode() + b"\n")
                answered = True
        elif process.poll() is not None:
            break
    code = process.wait(timeout=30)
    os.close(primary)
    return code, seen.decode("utf-8", "replace")


def test_confirmed_at_the_terminal(issue, smtp_server):  # noqa: F811
    server = smtp_server()
    code, screen = converse(["send", str(issue.folder), "--to", str(issue.recipients(2)),
                             "-o", str(issue.out), "--no-rebuild", *smtp_args(server)], "y")
    assert code == 0, screen
    assert "Recipients:   2" in screen and "Send to 2 recipient(s)? [y/N]" in screen
    assert len(server.messages) == 2


def test_declined_at_the_terminal_sends_nothing(issue, smtp_server):  # noqa: F811
    server = smtp_server()
    code, screen = converse(["send", str(issue.folder), "--to", str(issue.recipients(2)),
                             "-o", str(issue.out), "--no-rebuild", *smtp_args(server)], "n")
    assert code == 1, screen
    assert "Aborted" in screen
    assert server.messages == [] and server.sessions == set()
