"""Attacks through the recipient list, the manifest and the email templates (issue 8).

Every delivered message is parsed back with the ``email`` package from a real aiosmtpd on
loopback: it must carry exactly the headers newsletter builds, and one body structure.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter_pdf.errors import Problems, UsageError
from newsletter_pdf.mail import (
    HeaderValueError,
    MessageFactory,
    Recipient,
    Sender,
    Templates,
    header_text,
    read_recipients,
)

from .mail_support import run_send, smtp_args

HEADERS = {"from", "to", "reply-to", "subject", "date", "message-id", "list-unsubscribe",
           "list-unsubscribe-post", "content-type", "mime-version"}

# Names that decode to line breaks and new headers, in every shape we know of.
INJECTIONS = [
    "=?utf-8?q?Bob=0D=0AReply-To:_evil@attacker.example=0D=0A?=",
    "=?UTF-8?B?Qm9iDQpSZXBseS1UbzogZXZpbEBhdHRhY2tlci5leGFtcGxl?=",
    "=?utf-8?q?Bob?= =?utf-8?q?=0ABcc:_evil@attacker.example?=",
    "=?iso-8859-1?q?Bob=0D=0ASubject:_Urgent?=",
    "=?utf-8?q?=3D=3Futf-8=3Fq=3F=3D0D=3D0AX-Evil:=5F1=3F=3D?=",  # encoded twice over
    "Bob\u2028Reply-To: evil@attacker.example",
    "Bob\u0085X-Evil: 1",
    "Bob\x00",
]


def parsed(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def assert_only_our_headers(data: bytes) -> None:
    msg = parsed(data)
    names = [n.lower() for n in msg.keys()]
    assert set(names) <= HEADERS and len(names) == len(set(names)), names
    assert "attacker" not in str(msg.get("Reply-To", "")) + str(msg.get("Bcc", ""))
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "multipart/related",
        "text/html", "image/jpeg", "application/pdf"]


@pytest.mark.parametrize("name", INJECTIONS)
def test_header_text_refuses_what_decodes_to_a_control_character(name):
    with pytest.raises(HeaderValueError, match="control character or line break"):
        header_text(name, "the name")


def test_header_text_keeps_honest_encoded_words_and_bidi_marks():
    assert header_text("Zoë =?iso-8859-1?q?Andr=E9?=", "the name") == "Zoë André"
    assert header_text("علي \u200f", "the name") == "علي \u200f"


def test_every_injected_name_is_refused_before_the_first_message(issue, smtp_server):
    server = smtp_server()
    csv = issue.tmp / "list.csv"
    rows = ["email,name", "ann@example.org,Ann"]
    rows += [f'user{i}@example.org,"{name}"' for i, name in enumerate(INJECTIONS)]
    rows.append('cr@example.org,"Carl\r\nBcc: evil@attacker.example"')
    csv.write_bytes(("\n".join(rows) + "\n").encode("utf-8"))
    result = run_send(issue, csv, "--yes", *smtp_args(server))
    assert result.exit_code == 1, result.output
    for line in range(3, 3 + len(INJECTIONS)):
        assert f"list.csv:{line}: name: the name contains a control character" in result.output
    assert "list.csv:11: name: the name contains a control character or line break (U+000D)" \
        in result.output
    assert "Nothing was sent" in result.output
    assert server.sessions == set()  # validated completely before connecting

    result = run_send(issue, csv, "--yes", "--skip-invalid", *smtp_args(server))
    assert result.exit_code == 0, result.output
    assert [tos for tos, _ in server.messages] == [["ann@example.org"]]
    assert_only_our_headers(server.messages[0][1])


def test_a_unicode_line_separator_never_starts_a_row(tmp_path):
    csv = tmp_path / "list.csv"
    for separator in ("\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"):
        csv.write_text(f"email,name\nann@example.org,Ann{separator}evil@attacker.example\n"
                       "bob@example.org,Bob\n", encoding="utf-8")
        problems = Problems()
        recipients = read_recipients(csv, problems)
        assert [r.email for r in recipients] == ["bob@example.org"], repr(separator)
        assert [(p.line, p.key) for p in problems.errors] == [(2, "name")]


def test_subject_built_from_a_csv_column_cannot_add_headers(issue, smtp_server):
    server = smtp_server()
    manifest = issue.folder / "issue.yaml"
    original = manifest.read_text(encoding="utf-8")
    try:
        manifest.write_text(original + "  subject: 'News for {{ org }}'\n", encoding="utf-8")
        csv = issue.tmp / "list.csv"
        csv.write_text("email,name,org\nann@example.org,Ann,Good Org\n"
                       "bob@example.org,Bob,=?utf-8?q?x=0D=0ABcc:_evil@attacker.example?=\n",
                       encoding="utf-8")
        result = run_send(issue, csv, "--yes", *smtp_args(server))
        assert result.exit_code == 1
        assert ("list.csv:3: the subject contains a control character or line break (U+000D "
                "once decoded); remove it (in this row's message)") in result.output
        assert server.sessions == set()
    finally:
        manifest.write_text(original, encoding="utf-8")


@pytest.mark.parametrize("key,old,value", [
    ("from_name", "Tëst Newsletter", "=?utf-8?q?News=0D=0AReply-To:_evil@attacker.example?="),
    ("from_name", "Tëst Newsletter", "News\u2028Bcc: evil@attacker.example"),
    ("reply_to", "replies@iomiraq.example", "=?utf-8?q?a=0A?=@example.org"),
])
def test_manifest_mail_fields_are_located_errors(issue, smtp_server, key, old, value):
    server = smtp_server()
    manifest = issue.folder / "issue.yaml"
    original = manifest.read_text(encoding="utf-8")
    line = next(i for i, text in enumerate(original.splitlines(), 1)
                if text.strip() == f"{key}: {old}")
    try:
        manifest.write_text(original.replace(f"{key}: {old}", f"{key}: {json.dumps(value)}"),
                            encoding="utf-8")
        result = run_send(issue, issue.recipients(2), "--yes", *smtp_args(server))
        assert result.exit_code == 1, result.output
        assert f"issue.yaml:{line}:" in result.output
        assert f"distribution.{key}: " in result.output
        assert "contains a control character or line break" in result.output
        assert server.sessions == set()
    finally:
        manifest.write_text(original, encoding="utf-8")


def test_a_symlinked_email_template_is_refused(issue, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SMTP password: hunter2", encoding="utf-8")
    email_dir = issue.folder / "email"
    email_dir.mkdir()
    try:
        (email_dir / "body.txt").symlink_to(secret)
        result = run_send(issue, issue.recipients(1), "--dry-run", str(tmp_path / "eml"))
        assert result.exit_code == 1
        assert "body.txt leads outside its folder" in result.output
        assert not (tmp_path / "eml").exists()
        (email_dir / "body.txt").unlink()
        (email_dir / "body.txt").symlink_to("/proc/self/environ")
        result = run_send(issue, issue.recipients(1), "--dry-run", str(tmp_path / "eml"))
        assert result.exit_code == 1 and "leads outside its folder" in result.output
    finally:
        for path in email_dir.iterdir():
            path.unlink()
        email_dir.rmdir()


def test_clear_text_login_is_refused_unless_asked_for(monkeypatch):
    from newsletter_pdf.send import settings_from

    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "hunter2")
    with pytest.raises(UsageError) as info:
        settings_from("mail.example.org", 25, "none", "ann", None, 10)
    assert str(info.value) == ("--smtp-security none would send the password for ann to "
                               "mail.example.org in clear text; use starttls or tls, or pass "
                               "--insecure-auth if this network really is private")
    assert os.environ.get("NEWSLETTER_SMTP_PASSWORD") == "hunter2"  # not taken: refused
    ok = settings_from("mail.example.org", 25, "none", "ann", None, 10, insecure_auth=True)
    assert ok.password == "hunter2"
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "hunter2")
    assert settings_from("127.0.0.1", 25, "none", "ann", None, 10).password == "hunter2"
    assert settings_from("localhost", 25, "none", "ann", None, 10, password="x").password == "x"


def test_the_password_leaves_the_environment_before_any_child(monkeypatch):
    from newsletter_pdf.bounded import run_bounded
    from newsletter_pdf.send import take_password

    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("SOME_API_TOKEN", "t0ken")
    # A child (render, template) never sees a credential, even one we do not know of.
    seen = run_bounded(lambda: {k: v for k, v in os.environ.items()
                                if "hunter2" in v or "t0ken" in v},
                       what="a test", time_limit=30)
    assert seen == {}
    assert take_password() == "hunter2"
    assert "NEWSLETTER_SMTP_PASSWORD" not in os.environ


# --------------------------------------------------------------------------- property


def _factory(tmp: Path, from_name: str, subject: str) -> MessageFactory:
    folder = tmp / "email"
    folder.mkdir(exist_ok=True)
    (folder / "body.txt").write_text("Dear {{ name }}, {{ org }}\n", encoding="utf-8")
    (folder / "body.html").write_text("<p>Dear {{ name }}, {{ org }}</p>\n", encoding="utf-8")
    templates = Templates([folder], subject_override=subject)
    sender = Sender(from_address="news@example.org", from_name=from_name,
                    reply_to="replies@example.org", unsubscribe_mailto="u@example.org")
    return MessageFactory(templates=templates, sender=sender, pdf=b"%PDF-1.7 test",
                          filename="n.pdf", distribution="d" * 16, context={})


HOSTILE = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    INJECTIONS + ["<b>x</b>", "a\r\n\r\n--boundary", "=?utf-8?b?DQo=?=", "\u2029", "Ann"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=HOSTILE, org=HOSTILE, from_name=HOSTILE)
def test_no_string_adds_a_header_or_a_part(tmp_path, name, org, from_name):
    factory = _factory(tmp_path, from_name, "News for {{ org }}")
    recipient = Recipient(email="ann@example.org", name=name,
                          fields={"email": "ann@example.org", "name": name, "org": org})
    try:
        data = factory.build_bytes(recipient)
    except HeaderValueError:
        return  # refused with a message: fine, nothing was sent
    msg = parsed(data)
    names = [n.lower() for n in msg.keys()]
    assert set(names) <= HEADERS and len(names) == len(set(names)), names
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html",
        "application/pdf"]
