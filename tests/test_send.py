"""`newsletter send` against a real SMTP server (aiosmtpd) on 127.0.0.1.

Every test starts its own server on a free loopback port. The small issue's email edition
is built once per module and copied into each test's build folder (tests/mail_support.py).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter_pdf.cli import main

from .mail_support import attachment_of, run_send, smtp_args

# --------------------------------------------------------------------------- tests


def test_every_recipient_gets_exactly_one_message(issue, smtp_server):
    server = smtp_server()
    rows = [(f"user{i:03d}@example.org", f"User {i}") for i in range(24)]
    rows.append(("zoe@exämple.org", "Zoë Ünïcode-Łukasz"))
    csv = issue.recipients(rows)
    result = run_send(issue, csv, "--yes", *smtp_args(server))
    assert result.exit_code == 0, result.output
    assert "25 sent, 0 failed, 0 skipped (already sent), 0 unknown" in result.output
    pdf = issue.pdf.read_bytes()
    expected = [a for a, _ in rows[:-1]] + ["zoe@xn--exmple-cua.org"]
    assert sorted(r for tos, _ in server.messages for r in tos) == sorted(expected)
    for address in expected:
        [data] = server.received(address)
        msg, part = attachment_of(data)
        assert part.get_content_type() == "application/pdf"
        assert part.get_content() == pdf  # byte-identical to the email edition
        assert part.get_filename() == "Test Newsletter - April - June 2024.pdf"
        assert msg["From"] == "Tëst Newsletter <newsletter@iomiraq.example>"
        assert msg["Reply-To"] == "replies@iomiraq.example"
        assert msg["Message-ID"].endswith("@iomiraq.example>")
        assert email.utils.parsedate_to_datetime(msg["Date"]) > dt.datetime(
            2000, 1, 1, tzinfo=dt.UTC)
        assert msg["List-Unsubscribe"] == ("<mailto:unsubscribe@iomiraq.example?subject="
                                           "unsubscribe>, <https://iomiraq.example/unsubscribe>")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Subject"] == "Test Newsletter · April – June 2024"
        assert data.isascii()  # 7-bit clean: non-ASCII is encoded
    zoe, _ = attachment_of(server.received("zoe@xn--exmple-cua.org")[0])
    assert zoe["To"].addresses[0].display_name == "Zoë Ünïcode-Łukasz"
    assert "Dear Zoë Ünïcode-Łukasz," in zoe.get_body(("plain",)).get_content()
    assert "Dear Zoë Ünïcode-Łukasz," in zoe.get_body(("html",)).get_content()
    assert len(server.sessions) == 1  # one connection for all of them
    assert set(s for s, _, _ in issue.journal().values()) == {"sent"}

    again = run_send(issue, csv, "--yes", *smtp_args(server))
    assert again.exit_code == 0, again.output
    assert "Nothing to send" in again.output
    assert "0 sent, 0 failed, 25 skipped (already sent)" in again.output
    assert len(server.messages) == 25


def test_dry_run_writes_eml_files_and_connects_to_nothing(issue, smtp_server):
    server = smtp_server()
    csv = issue.recipients([("ann@example.org", "Ann"), ("bo@example.org", "Bø Ærø")],
                           extra="org=Ørsted & Co <b>")
    (issue.tmp / "email").mkdir()
    result = run_send(issue, csv, "--dry-run", str(issue.tmp / "eml"),
                      *smtp_args(server))
    assert result.exit_code == 0, result.output
    files = sorted((issue.tmp / "eml").glob("*.eml"))
    assert [f.name for f in files] == ["0001-ann@example.org.eml", "0002-bo@example.org.eml"]
    msg = email.message_from_bytes(files[1].read_bytes(), policy=email.policy.default)
    assert msg["To"].addresses[0].display_name == "Bø Ærø"
    assert msg["To"].addresses[0].addr_spec == "bo@example.org"
    assert msg.get_body(("plain",)).get_content().startswith("Dear Bø Ærø,\n")
    _, part = attachment_of(files[1].read_bytes())
    assert part.get_content() == issue.pdf.read_bytes()
    assert server.sessions == set() and server.messages == []
    assert not (issue.out / "send-journal.sqlite").exists()


def test_issue_templates_override_and_use_csv_columns(issue, smtp_server, tmp_path):
    folder = tmp_path / "issue2"
    shutil.copytree(issue.folder, folder)
    (folder / "email").mkdir()
    (folder / "email" / "subject.txt").write_text("For {{ org }}: {{ newsletter }}\n")
    (folder / "email" / "body.html").write_text("<p>Hi {{ name }} of {{ org }}</p>\n")
    shutil.copystat(issue.pdf, issue.pdf)  # keep the PDF newer than the copied issue
    os.utime(issue.pdf)
    issue.folder = folder
    csv = issue.recipients([("ann@example.org", "Ann <Lee>")], extra="org=R&D")
    result = run_send(issue, csv, "--dry-run", str(tmp_path / "eml"))
    assert result.exit_code == 0, result.output
    [eml] = (tmp_path / "eml").glob("*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "For R&D: Test Newsletter"
    assert msg.get_body(("html",)).get_content() == "<p>Hi Ann &lt;Lee&gt; of R&amp;D</p>\n"
    assert "Dear Ann <Lee>," in msg.get_body(("plain",)).get_content()  # layout default
    # This body.html does not show the cover: no inline image that would look attached.
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html",
        "application/pdf"]

    (folder / "email" / "subject.txt").write_text("For {{ organisation_name }}\n")
    result = run_send(issue, csv, "--dry-run", str(tmp_path / "eml2"))
    assert result.exit_code == 1
    assert "subject.txt" in result.output and "organisation_name" in result.output
    assert not (tmp_path / "eml2").exists()


def test_list_problems_are_reported_before_anything_is_sent(issue, smtp_server):
    server = smtp_server()
    csv = issue.tmp / "list.csv"
    csv.write_text("email,name\nann@example.org,Ann\n\nbad-address,Bad\nANN@Example.org,Dup\n"
                   "two@@example.org,Two\ncid@example,Cid\n", encoding="utf-8")
    result = run_send(issue, csv, "--yes", *smtp_args(server))
    assert result.exit_code == 1
    out = result.output
    assert "list.csv:3: warning: blank row skipped" in out
    assert "list.csv:4: email: invalid address: 'bad-address' has no '@'" in out
    assert "list.csv:5: warning: email: duplicate of line 2" in out
    assert "list.csv:6: email: invalid address" in out
    assert "list.csv:7: email: invalid address" in out and "has no dot" in out
    assert server.sessions == set()

    result = run_send(issue, csv, "--yes", "--skip-invalid", *smtp_args(server))
    assert result.exit_code == 0, result.output
    assert [tos for tos, _ in server.messages] == [["ann@example.org"]]


def test_without_a_terminal_it_refuses_unless_yes(issue, smtp_server):
    server = smtp_server()
    result = run_send(issue, issue.recipients(2), *smtp_args(server))
    assert result.exit_code == 2
    assert "--yes" in result.output and "Recipients:   2" in result.output
    assert server.sessions == set()


def test_temporary_failure_451_then_250(issue, smtp_server):
    server = smtp_server()
    server.tempfail["user001@example.org"] = 2
    result = run_send(issue, issue.recipients(3), "--yes", *smtp_args(server))
    assert result.exit_code == 0, result.output
    assert len(server.received("user001@example.org")) == 1
    assert len(server.messages) == 3
    state, code, attempts = issue.journal()["user001@example.org"]
    assert (state, code, attempts) == ("sent", 250, 3)


def test_temporary_failures_are_bounded(issue, smtp_server):
    server = smtp_server()
    server.tempfail["user001@example.org"] = 99
    result = run_send(issue, issue.recipients(2), "--yes", "--max-attempts", "3",
                      *smtp_args(server))
    assert result.exit_code == 1
    assert "user001@example.org (line 3): 451 4.7.1 greylisted" in result.output
    assert issue.journal()["user001@example.org"][:2] == ("failed", 451)
    server.tempfail.clear()  # a rerun tries temporary failures again
    again = run_send(issue, issue.recipients(2), "--yes", *smtp_args(server))
    assert again.exit_code == 0, again.output
    assert len(server.received("user001@example.org")) == 1


def test_permanent_refusal_550_is_recorded_and_listed(issue, smtp_server):
    server = smtp_server()
    server.refuse.add("user002@example.org")
    csv = issue.recipients(5)
    result = run_send(issue, csv, "--yes", *smtp_args(server))
    assert result.exit_code == 1
    assert "4 sent, 1 failed" in result.output
    assert "user002@example.org (line 4): 550 5.1.1 no such mailbox here" in result.output
    assert len(server.messages) == 4 and not server.received("user002@example.org")
    assert issue.journal()["user002@example.org"][:2] == ("failed", 550)

    again = run_send(issue, csv, "--yes", *smtp_args(server))  # not retried by default
    assert again.exit_code == 1 and "0 sent, 1 failed, 4 skipped" in again.output
    server.refuse.clear()
    fixed = run_send(issue, csv, "--yes", "--retry-failed", *smtp_args(server))
    assert fixed.exit_code == 0, fixed.output
    assert len(server.received("user002@example.org")) == 1 and len(server.messages) == 5


def test_connection_dropped_mid_stream_reconnects(issue, smtp_server):
    server = smtp_server()
    server.drop_every = 3  # hang up on the 4th MAIL FROM of every connection
    result = run_send(issue, issue.recipients(10), "--yes", *smtp_args(server))
    assert result.exit_code == 0, result.output
    assert len(server.sessions) >= 4
    for i in range(10):
        assert len(server.received(f"user{i:03d}@example.org")) == 1


def test_connection_lost_during_data_is_unknown_and_retried_only_on_request(issue,
                                                                           smtp_server):
    server = smtp_server()
    server.drop_in_data.add("user003@example.org")
    csv = issue.recipients(6)
    result = run_send(issue, csv, "--yes", *smtp_args(server))
    assert result.exit_code == 1
    assert "5 sent, 0 failed, 0 skipped (already sent), 1 unknown" in result.output
    assert "user003@example.org (line 5): connection lost after the message was sent" \
        in result.output
    assert issue.journal()["user003@example.org"][0] == "unknown"

    again = run_send(issue, csv, "--yes", *smtp_args(server))
    assert again.exit_code == 1 and "0 sent, 0 failed, 5 skipped (already sent), 1 unknown" \
        in again.output
    assert not server.received("user003@example.org")

    retried = run_send(issue, csv, "--yes", "--retry-unknown", *smtp_args(server))
    assert retried.exit_code == 0, retried.output
    assert len(server.received("user003@example.org")) == 1
    assert len(server.messages) == 6


@pytest.mark.parametrize("where", ["data", "rcpt", "sigint"])
def test_sigkill_part_way_then_resume(issue, smtp_server, where):
    """Kill the sender (SIGKILL) after 7 messages arrived: nobody twice, nobody missed.

    'data': killed after the server stored message 7 but before its 250 reached the
    sender — the journal says 'sending', so that recipient is *unknown* and not resent.
    'rcpt': killed during the 8th transaction, before DATA — resent on resume.
    """
    server = smtp_server()
    n = 20
    csv = issue.recipients(n)
    cmd = [sys.executable, "-c", "from newsletter_pdf.cli import main; main()", "send",
           str(issue.folder), "--to", str(csv), "-o", str(issue.out), "--no-rebuild",
           "--yes", *smtp_args(server)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_SMTP_")}
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, cwd=issue.tmp)
    server.kill = (proc.pid, 7, where)
    try:
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = proc.stdout.read().decode()
    if where == "sigint":  # Ctrl-C: a summary, the open message recorded as unknown
        assert proc.returncode == 130, output
        assert "interrupted" in output
        # The 250 may or may not have been read before the interrupt: either way the
        # journal knows all 7, as sent or unknown.
        assert ("7 sent, 0 failed, 0 skipped (already sent), 0 unknown" in output
                or "6 sent, 0 failed, 0 skipped (already sent), 1 unknown" in output), output
    else:
        assert proc.returncode == -signal.SIGKILL, output
    assert len(server.messages) in (7, 8) if where == "rcpt" else len(server.messages) == 7
    first = {tos[0] for tos, _ in server.messages}

    resumed = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             env=env, cwd=issue.tmp, timeout=120)
    received = [tos[0] for tos, _ in server.messages]
    assert sorted(received) == sorted(f"user{i:03d}@example.org" for i in range(n)), \
        resumed.stdout + resumed.stderr  # nobody twice, nobody missed
    assert all(len(server.received(a)) == 1 for a in first)
    journal = issue.journal()
    if where == "data" or "1 unknown" in output:
        assert resumed.returncode == 1  # the unknown one is reported
        assert ("1 message(s) were being sent when an earlier run stopped" in resumed.stderr) \
            == (where == "data")
        assert "13 sent, 0 failed, 6 skipped (already sent), 1 unknown" in resumed.stdout
        unknown = [e for e, (s, _, _) in journal.items() if s == "unknown"]
        assert unknown == ["user006@example.org"]
    else:
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert {s for s, _, _ in journal.values()} == {"sent"}


def test_changed_pdf_starts_a_new_distribution_only_when_asked(issue, smtp_server):
    server = smtp_server()
    csv = issue.recipients(2)
    assert run_send(issue, csv, "--yes", *smtp_args(server)).exit_code == 0
    first_pdf = issue.pdf.read_bytes()
    # A rebuilt issue: the article changes, so the PDF is stale and must be rebuilt.
    article = issue.tmp / "issue3"
    shutil.copytree(issue.folder, article)
    issue.folder = article
    time.sleep(0.05)
    (article / "articles" / "news.md").write_text(
        "---\ntitle: Small News, corrected\n---\n\nA corrected paragraph.\n", encoding="utf-8")
    runner = CliRunner()
    args = ["send", str(article), "--to", str(csv), "-o", str(issue.out), "--yes",
            *smtp_args(server)]
    refused = runner.invoke(main, args, catch_exceptions=False)
    assert refused.exit_code == 1
    assert "--no-rebuild" in refused.output and "--new-distribution" in refused.output
    assert issue.pdf.read_bytes() == first_pdf  # the sent PDF was not replaced

    resent = runner.invoke(main, args + ["--new-distribution"], catch_exceptions=False)
    assert resent.exit_code == 0, resent.output
    new_pdf = issue.pdf.read_bytes()
    assert new_pdf != first_pdf
    for i in range(2):
        got = [attachment_of(d)[1].get_content() for d in
               server.received(f"user{i:03d}@example.org")]
        assert got == [first_pdf, new_pdf]
    again = runner.invoke(main, args, catch_exceptions=False)
    assert again.exit_code == 0 and "2 skipped (already sent)" in again.output
    same = runner.invoke(main, args + ["--new-distribution"], catch_exceptions=False)
    assert same.exit_code == 2 and "unchanged" in same.output
    assert len(server.messages) == 4


def test_rate_limit(issue, smtp_server):
    server = smtp_server()
    started = time.monotonic()
    result = run_send(issue, issue.recipients(4), "--yes", "--rate", "600",
                      *smtp_args(server))
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 0.3  # 4 messages, 0.1 s apart
    assert len(server.messages) == 4


def test_missing_distribution_section(issue, tmp_path):
    folder = tmp_path / "nodist"
    shutil.copytree(issue.folder, folder)
    text = (folder / "issue.yaml").read_text()
    (folder / "issue.yaml").write_text(text[: text.index("distribution:")])
    issue.folder = folder
    result = run_send(issue, issue.recipients(1), "--yes")
    assert result.exit_code == 1 and "no 'distribution:' section" in result.output


def test_no_server_configured_is_a_usage_error(issue):
    result = run_send(issue, issue.recipients(1), "--yes")
    assert result.exit_code == 2 and "NEWSLETTER_SMTP_HOST" in result.output


# --------------------------------------------------------------------------- STARTTLS


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cryptography), and its key."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newsletter-pdf test")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                 x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_starttls_with_a_trusted_self_signed_certificate_and_login(issue, smtp_server):
    import ssl

    pytest.importorskip("cryptography")
    from aiosmtpd.smtp import AuthResult

    cert, key = make_certificate(issue.tmp)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((mechanism, auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == "s3cret pässword".encode())

    server = smtp_server(tls_context=context, require_starttls=True,
                         authenticator=authenticator, auth_require_tls=True)
    csv = issue.recipients(3)
    base = ["--smtp-host", "127.0.0.1", "--smtp-port", str(server.port)]
    env = {"NEWSLETTER_SMTP_SECURITY": "starttls", "NEWSLETTER_SMTP_USER": "mailer",
           "NEWSLETTER_SMTP_PASSWORD": "s3cret pässword"}

    untrusted = run_send(issue, csv, "--yes", *base, env=env)
    assert untrusted.exit_code == 1
    assert "not trusted" in untrusted.output and "--smtp-ca-file" in untrusted.output
    assert server.messages == []

    result = run_send(issue, csv, "--yes", *base,
                      env={**env, "NEWSLETTER_SMTP_CA_FILE": str(cert)})
    assert result.exit_code == 0, result.output
    assert "127.0.0.1:" in result.output and "(starttls as mailer)" in result.output
    assert len(server.messages) == 3
    assert logins and logins[-1][1:] == (b"mailer", "s3cret pässword".encode())


# --------------------------------------------------------------------------- units


def test_address_checks():
    from newsletter_pdf.mail import check_address

    assert check_address(" Ann.Lee+news@Example.ORG ")[0] == "Ann.Lee+news@example.org"
    assert check_address("zoë@example.org")[0] is None
    assert check_address("a@bücher.example")[0] == "a@xn--bcher-kva.example"
    for bad in ("", "a", "a@", "@b.org", "a b@c.org", "a@b", "a@@b.org", "a..b@c.org",
                "a@-b.org", "a@b.123"):
        assert check_address(bad)[0] is None, bad


def test_data_payload_dot_stuffing():
    from newsletter_pdf.send import data_payload

    assert data_payload(b"a\n.b\r\n..c") == b"a\r\n..b\r\n...c\r\n.\r\n"


def test_password_comes_only_from_environment_or_prompt(monkeypatch):
    from newsletter_pdf.errors import UsageError
    from newsletter_pdf.send import settings_from

    for name in list(os.environ):
        if name.startswith("NEWSLETTER_SMTP_"):
            monkeypatch.delenv(name)
    with pytest.raises(UsageError, match="NEWSLETTER_SMTP_PASSWORD"):
        settings_from("127.0.0.1", 2525, "none", "me", None, 5)
    asked = settings_from("127.0.0.1", 2525, "none", "me", None, 5,
                          password_prompt=lambda user: f"typed-for-{user}")
    assert asked.password == "typed-for-me"
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "from-env")
    monkeypatch.setenv("NEWSLETTER_SMTP_PORT", "2526")
    s = settings_from("127.0.0.1", None, None, "me", None, 5)
    assert (s.password, s.port, s.security) == ("from-env", 2526, "starttls")
