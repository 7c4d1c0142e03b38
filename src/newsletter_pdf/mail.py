"""Messages for ``newsletter send``: the recipient list and one personalised email each.

:func:`read_recipients` reads the CSV (``email`` and ``name`` columns, any others for the
templates) and reports invalid addresses, blank rows and duplicates as located problems,
all at once. :class:`MessageFactory` renders the subject, plain-text and HTML bodies from
Jinja2 templates (the issue's ``email/`` folder overrides the layout's) and builds an
:class:`email.message.EmailMessage` with the PDF attached, ready for SMTP (CRLF, 7-bit
clean, non-ASCII headers encoded per RFC 2047/2231).
"""

from __future__ import annotations

import csv
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import formatdate
from pathlib import Path

import jinja2
import jinja2.sandbox

from .errors import NewsletterError, Problems, display_path

#: Serialisation policy: CRLF line ends, headers folded at 78, RFC 2047 for non-ASCII.
POLICY = policy.SMTP
TEMPLATE_NAMES = ("subject.txt", "body.txt", "body.html")

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


# --------------------------------------------------------------------------- recipients


@dataclass(frozen=True)
class Recipient:
    """One row of the recipient list."""

    email: str  # as sent: ASCII, the domain IDNA-encoded and lower-cased
    name: str
    fields: dict[str, str] = field(default_factory=dict)  # every CSV column
    line: int = 0

    @property
    def key(self) -> str:
        """The identity used by the journal and for duplicates."""
        return self.email.lower()


def check_address(text: str) -> tuple[str | None, str]:
    """Validate one address; return (normalised address, '') or (None, why not)."""
    text = text.strip()
    if not text:
        return None, "the email is empty"
    if any(c.isspace() for c in text):
        return None, f"{text!r} contains a space"
    if text.count("@") != 1:
        return None, (f"{text!r} has no '@'" if "@" not in text
                      else f"{text!r} has more than one '@'")
    local, domain = text.split("@")
    if not local:
        return None, f"{text!r} has nothing before the '@'"
    if not local.isascii():
        return None, f"{text!r}: non-ASCII before the '@' needs SMTPUTF8, which is not supported"
    if len(local) > 64 or not _LOCAL.match(local):
        return None, f"{text!r}: {local!r} is not a valid mailbox name"
    domain = domain.rstrip(".")
    if not domain:
        return None, f"{text!r} has nothing after the '@'"
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        return None, f"{text!r}: {domain!r} is not a valid domain name"
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        return None, f"{text!r}: the domain {domain!r} has no dot (e.g. example.org)"
    if len(ascii_domain) > 253 or not all(_LABEL.match(label) for label in labels):
        return None, f"{text!r}: {domain!r} is not a valid domain name"
    if labels[-1].isdigit():
        return None, f"{text!r}: {domain!r} is not a domain name"
    return f"{local}@{ascii_domain.lower()}", ""


def read_recipients(path: Path, problems: Problems) -> list[Recipient]:
    """Read the recipient CSV; errors for bad addresses, warnings for blanks and duplicates.

    Every problem is located as ``file:line``. Duplicates (case-insensitive) keep the
    first row; blank rows are skipped.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise NewsletterError(f"cannot read the recipient list {display_path(path)}: "
                              f"{exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raw = path.read_bytes()
        line = raw[: exc.start].count(b"\n") + 1
        problems.error("the recipient list is not UTF-8 text; save it as CSV UTF-8",
                       file=path, line=line)
        return []
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader)
    except StopIteration:
        problems.error("the recipient list is empty; it needs a header row 'email,name'",
                       file=path, line=1)
        return []
    except csv.Error as exc:
        problems.error(f"not a CSV file: {exc}", file=path, line=1)
        return []
    columns = [h.strip().lower() if h.strip().lower() in ("email", "name") else h.strip()
               for h in header]
    if "email" not in columns:
        problems.error(f"no 'email' column (the header row is {','.join(header)!r}); the first "
                       "row must name the columns, e.g. 'email,name'", file=path, line=1)
        return []
    if "name" not in columns:
        problems.warn("no 'name' column: messages will not be addressed by name",
                      file=path, line=1)
    seen: dict[str, int] = {}
    recipients: list[Recipient] = []
    last_line = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.error(f"not valid CSV: {exc}", file=path, line=reader.line_num)
            break
        line = last_line + 1
        last_line = reader.line_num
        if not any(cell.strip() for cell in row):
            problems.warn("blank row skipped", file=path, line=line)
            continue
        if len(row) > len(columns):
            problems.error(f"this row has {len(row)} fields but the header has {len(columns)} "
                           "(a comma inside a name needs quotes: \"Doe, Jane\")",
                           file=path, line=line)
            continue
        values = {col: (row[i].strip() if i < len(row) else "") for i, col in enumerate(columns)
                  if col}
        email, why = check_address(values.get("email", ""))
        if email is None:
            problems.error(f"invalid address: {why}", file=path, line=line, key="email")
            continue
        key = email.lower()
        if key in seen:
            problems.warn(f"duplicate of line {seen[key]} ({email}); sent once",
                          file=path, line=line, key="email")
            continue
        seen[key] = line
        recipients.append(Recipient(email=email, name=values.get("name", ""), fields=values,
                                    line=line))
    if not recipients and not problems.errors:
        problems.error("the recipient list has no recipients", file=path)
    return recipients


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Sender:
    """Who the messages come from, and how to unsubscribe (from the manifest)."""

    from_address: str
    from_name: str = ""
    reply_to: str = ""
    unsubscribe_mailto: str = ""
    unsubscribe_url: str = ""

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "localhost"


def attachment_name(title: str, label: str) -> str:
    """A readable, file-system-safe name such as 'IOM Iraq Newsletter - Issue 1 - ….pdf'."""
    text = f"{title} - {label}" if label else title
    text = text.replace("·", "-").replace("\u2013", "-").replace("\u2014", "-")
    text = unicodedata.normalize("NFC", _FILENAME_UNSAFE.sub(" ", text))
    text = re.sub(r"\s+", " ", text).strip(" .") or "newsletter"
    return f"{text}.pdf"


def message_id(distribution: str, recipient: Recipient, domain: str) -> str:
    """Stable per distribution and recipient: a resent message can be recognised."""
    who = hashlib.sha256(recipient.key.encode()).hexdigest()[:20]
    return f"<{distribution[:16]}.{who}@{domain}>"


class Templates:
    """The three email templates: the issue's ``email/`` folder first, then the layout's."""

    def __init__(self, folders: list[Path], subject_override: str | None = None):
        self.folders = [f for f in folders if f.is_dir()]
        loader = jinja2.FileSystemLoader([str(f) for f in self.folders])
        common = dict(loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True)
        # Sandboxed: an issue's own email templates are input and must not run code.
        self.text_env = jinja2.sandbox.SandboxedEnvironment(autoescape=False, **common)
        self.html_env = jinja2.sandbox.SandboxedEnvironment(autoescape=True, **common)
        self.subject_override = subject_override
        missing = [n for n in TEMPLATE_NAMES
                   if not (n == "subject.txt" and subject_override)
                   and not any((f / n).is_file() for f in self.folders)]
        if missing:
            where = ", ".join(display_path(f) for f in folders)
            raise NewsletterError(f"email template(s) {', '.join(missing)} not found in {where}")
        try:
            self.subject = (self.text_env.from_string(subject_override) if subject_override
                            else self.text_env.get_template("subject.txt"))
            self.text = self.text_env.get_template("body.txt")
            self.html = self.html_env.get_template("body.html")
        except jinja2.TemplateSyntaxError as exc:
            where = display_path(exc.filename) if exc.filename else "distribution.subject"
            raise NewsletterError(f"{where}:{exc.lineno}: template error: {exc.message}") from exc

    def source(self, name: str) -> str:
        for folder in self.folders:
            if (folder / name).is_file():
                return display_path(folder / name)
        return name

    def render(self, context: dict) -> tuple[str, str, str]:
        """(subject, plain text, HTML) for one recipient; template errors are located."""
        parts = []
        for name, template in (("subject.txt", self.subject), ("body.txt", self.text),
                               ("body.html", self.html)):
            try:
                parts.append(template.render(context))
            except jinja2.TemplateError as exc:
                where = ("distribution.subject" if name == "subject.txt" and self.subject_override
                         else self.source(name))
                raise NewsletterError(f"{where}: cannot personalise the message: {exc} "
                                      f"(the CSV columns are: "
                                      f"{', '.join(sorted(context.get('row', {})))})") from exc
        subject = " ".join(parts[0].split())  # one line: a newline would end the header
        return subject, parts[1], parts[2]


class MessageFactory:
    """Builds each recipient's message; the PDF part is encoded once and shared."""

    def __init__(self, *, templates: Templates, sender: Sender, pdf: bytes, filename: str,
                 distribution: str, context: dict):
        self.templates = templates
        self.sender = sender
        self.filename = filename
        self.distribution = distribution
        self.context = dict(context)
        self.pdf_part = self._pdf_part(pdf)
        # Serialising a large base64 body line by line is most of the cost of a message, so
        # build_bytes() serialises a stand-in part and splices in the PDF, encoded once.
        self._token = secrets.token_hex(24).encode()
        self._stand_in = self._pdf_part(self._token)
        self._stand_in_body = self._stand_in.get_payload().encode("ascii")
        self._pdf_body = self.pdf_part.get_payload().encode("ascii")

    def _pdf_part(self, data: bytes) -> MIMEPart:
        part = MIMEPart(policy=POLICY)
        part.set_content(data, maintype="application", subtype="pdf",
                         disposition="attachment", filename=self.filename)
        return part

    def context_for(self, recipient: Recipient) -> dict:
        ctx = {k: v for k, v in recipient.fields.items() if k.isidentifier()}
        ctx.update(self.context)
        ctx.update(name=recipient.name, email=recipient.email, row=dict(recipient.fields))
        return ctx

    def render(self, recipient: Recipient) -> tuple[str, str, str]:
        return self.templates.render(self.context_for(recipient))

    def message_id(self, recipient: Recipient) -> str:
        return message_id(self.distribution, recipient, self.sender.domain)

    def build(self, recipient: Recipient, attachment: MIMEPart | None = None) -> EmailMessage:
        """The whole message as an :class:`EmailMessage`."""
        subject, text, html = self.render(recipient)
        s = self.sender
        msg = EmailMessage(policy=POLICY)
        msg["From"] = Address(s.from_name or "", addr_spec=s.from_address)
        msg["To"] = Address(recipient.name or "", addr_spec=recipient.email)
        if s.reply_to:
            msg["Reply-To"] = s.reply_to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = self.message_id(recipient)
        unsubscribe = []
        if s.unsubscribe_mailto:
            address = s.unsubscribe_mailto.removeprefix("mailto:")
            unsubscribe.append(f"<mailto:{address}?subject=unsubscribe>")
        if s.unsubscribe_url:
            unsubscribe.append(f"<{s.unsubscribe_url}>")
        if unsubscribe:
            msg["List-Unsubscribe"] = ", ".join(unsubscribe)
        if s.unsubscribe_url:
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        msg.make_mixed()
        msg.attach(attachment or self.pdf_part)
        return msg

    def build_bytes(self, recipient: Recipient, linesep: str = "\r\n") -> bytes:
        """The message as bytes: CRLF for SMTP, ``linesep="\n"`` for .eml files.

        The same bytes as ``build(recipient).as_bytes()``, several times faster."""
        data = self.build(recipient, self._stand_in).as_bytes(
            policy=POLICY.clone(linesep=linesep))
        eol = linesep.encode()
        stand_in = self._stand_in_body.replace(b"\n", eol)
        if data.count(stand_in) != 1:  # pragma: no cover - a token collision
            return self.build(recipient).as_bytes(policy=POLICY.clone(linesep=linesep))
        return data.replace(stand_in, self._pdf_body.replace(b"\n", eol))
