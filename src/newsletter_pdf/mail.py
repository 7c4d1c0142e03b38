"""Messages for ``newsletter send``: the recipient list and one personalised email each.

:func:`read_recipients` reads the CSV (``email`` and ``name`` columns, any others for the
templates) and reports invalid addresses, blank rows and duplicates as located problems,
all at once. :class:`MessageFactory` renders the subject, plain-text and HTML bodies from
Jinja2 templates (the issue's ``email/`` folder overrides the layout's) and builds an
:class:`email.message.EmailMessage` — text and HTML alternatives, the cover thumbnail
inline, the PDF attached unless it is linked — ready for SMTP (CRLF, 7-bit clean,
non-ASCII headers encoded per RFC 2047/2231).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.parser import BytesHeaderParser
from email.utils import formatdate
from pathlib import Path

import jinja2
import jinja2.sandbox

from .errors import NewsletterError, Problems, display_path
from .mailbody import fill_html, fill_text
from .templating import BoundedSandbox, ConfinedLoader, TemplateRefused

#: Serialisation policy: CRLF line ends, headers folded at 78, RFC 2047 for non-ASCII.
POLICY = policy.SMTP
TEMPLATE_NAMES = ("subject.txt", "body.txt", "body.html")

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


# --------------------------------------------------------------------------- header text

# Line and paragraph separators that are not control characters (Unicode categories
# Zl/Zp): some mail software ends a line at them.
_SEPARATORS = {"\u2028", "\u2029"}
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")


class HeaderValueError(ValueError):
    """A value that would change a message's headers or structure if put into one."""


def _bad_character(text: str) -> str | None:
    for ch in text:
        if unicodedata.category(ch) == "Cc" or ch in _SEPARATORS:
            return f"U+{ord(ch):04X}"
    return None


def header_text(value: str, what: str) -> str:
    """``value`` made safe for one mail header, or :class:`HeaderValueError`.

    The standard library decodes RFC 2047 encoded words (``=?utf-8?q?…=0D=0A…?=``) in
    display names and subjects when it parses a header, and older Pythons then write the
    decoded line break as is: a recipient name could add headers or a body part. So every
    value is decoded here (repeatedly, as the library would on each parse) and refused if
    the decoded text holds a control character (CR, LF, NUL, tab…) or a Unicode line or
    paragraph separator. The decoded text is returned: the library encodes it again
    properly when it writes the header.
    """
    text = value
    for _ in range(4):
        bad = _bad_character(text)
        if bad:
            raise HeaderValueError(f"{what} contains a control character or line break "
                                   f"({bad}{' once decoded' if text != value else ''}); "
                                   "remove it")
        if not _ENCODED_WORD.search(text):
            return text
        # Decode exactly as the library will when the header is set (lenient: unknown
        # charsets and broken base64 decode to something rather than fail).
        decoded = str(policy.default.header_factory("X-Check", text))
        if decoded == text:
            return text
        text = decoded
    raise HeaderValueError(f"{what} is encoded more than three times over; write the text "
                           "itself")


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
    # CSV rules only: newline="" keeps U+2028, U+0085, form feeds… inside their field
    # (str.splitlines would start a new row at each, and that row could carry any address).
    reader = csv.reader(io.StringIO(text, newline=""))
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
        try:
            name = header_text(values.get("name", ""), "the name")
        except HeaderValueError as exc:
            problems.error(str(exc), file=path, line=line, key="name")
            continue
        key = email.lower()
        if key in seen:
            problems.warn(f"duplicate of line {seen[key]} ({email}); sent once",
                          file=path, line=line, key="email")
            continue
        seen[key] = line
        recipients.append(Recipient(email=email, name=name, fields=values,
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
        loader = ConfinedLoader(self.folders)
        common = dict(loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True)
        # Sandboxed: an issue's own email templates are input and must not run code.
        self.text_env = BoundedSandbox(autoescape=False, **common)
        self.html_env = BoundedSandbox(autoescape=True, **common)
        # {{ words.email_greeting|fill(name=name) }}: a word-table sentence filled in
        # (escaped piece by piece in the HTML template).
        self.text_env.filters["fill"] = fill_text
        self.html_env.filters["fill"] = fill_html
        self.subject_override = subject_override
        missing = [n for n in TEMPLATE_NAMES
                   if not (n == "subject.txt" and subject_override)
                   and not any(os.path.lexists(f / n) for f in self.folders)]
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
        except jinja2.TemplateNotFound as exc:
            raise NewsletterError(f"email template {exc.name} not found") from None
        except TemplateRefused as exc:
            raise NewsletterError(f"email template refused: {exc}") from None

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


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML body shows from inside the message (``<img src="cid:…">``)."""

    data: bytes
    cid: str  # the Content-ID without its angle brackets
    subtype: str = "jpeg"
    filename: str = "cover.jpg"


class MessageFactory:
    """Builds each recipient's message; the PDF and image parts are encoded once and shared.

    The message is ``multipart/alternative`` (plain text, then the HTML — itself
    ``multipart/related`` with its inline images when there are any), inside
    ``multipart/mixed`` with the PDF when one is attached (``pdf`` given)."""

    def __init__(self, *, templates: Templates, sender: Sender, pdf: bytes | None,
                 filename: str, distribution: str, context: dict,
                 images: tuple[InlineImage, ...] | list[InlineImage] = ()):
        self.templates = templates
        self.sender = sender
        self.filename = filename
        self.distribution = distribution
        self.context = dict(context)
        self.images = tuple(images)
        # Serialising a large base64 body line by line is most of the cost of a message, so
        # build_bytes() serialises stand-in parts and splices in the real bodies, encoded
        # once: (real part, stand-in part) for the PDF and each image.
        self._pairs: list[tuple[MIMEPart, MIMEPart]] = []
        self.pdf_part = None
        if pdf is not None:
            self.pdf_part = self._pdf_part(pdf)
            self._pdf_stand_in = self._pdf_part(secrets.token_hex(24).encode())
            self._pairs.append((self.pdf_part, self._pdf_stand_in))
        self.image_parts = [self._image_part(i, i.data) for i in self.images]
        self._image_stand_ins = [self._image_part(i, secrets.token_hex(24).encode())
                                 for i in self.images]
        self._pairs += list(zip(self.image_parts, self._image_stand_ins))
        # (stand-in body, real body, whether the message may lack it: images not shown)
        self._splices = [(stand.get_payload().encode("ascii"),
                          real.get_payload().encode("ascii"), real is not self.pdf_part)
                         for real, stand in self._pairs]

    def _pdf_part(self, data: bytes) -> MIMEPart:
        part = MIMEPart(policy=POLICY)
        part.set_content(data, maintype="application", subtype="pdf",
                         disposition="attachment", filename=self.filename)
        return part

    @staticmethod
    def _image_part(image: InlineImage, data: bytes) -> MIMEPart:
        part = MIMEPart(policy=POLICY)
        part.set_content(data, maintype="image", subtype=image.subtype, disposition="inline",
                         filename=image.filename, cid=f"<{image.cid}>")
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

    def headers(self, recipient: Recipient) -> dict[str, object]:
        """Every header of one recipient's message, each value checked by
        :func:`header_text` (raises :class:`HeaderValueError` naming the field)."""
        subject = self.render(recipient)[0]
        s = self.sender
        headers: dict[str, object] = {
            "From": Address(header_text(s.from_name or "", "distribution.from_name"),
                            addr_spec=header_text(s.from_address, "distribution.from_address")),
            "To": Address(header_text(recipient.name or "", "the name"),
                          addr_spec=header_text(recipient.email, "the email")),
        }
        if s.reply_to:
            headers["Reply-To"] = header_text(s.reply_to, "distribution.reply_to")
        headers["Subject"] = header_text(subject, "the subject")
        headers["Date"] = formatdate(localtime=True)
        headers["Message-ID"] = self.message_id(recipient)
        unsubscribe = []
        if s.unsubscribe_mailto:
            address = header_text(s.unsubscribe_mailto.removeprefix("mailto:"),
                                  "distribution.unsubscribe_mailto")
            unsubscribe.append(f"<mailto:{address}?subject=unsubscribe>")
        if s.unsubscribe_url:
            url = header_text(s.unsubscribe_url, "distribution.unsubscribe_url")
            unsubscribe.append(f"<{url}>")
        if unsubscribe:
            headers["List-Unsubscribe"] = ", ".join(unsubscribe)
        if s.unsubscribe_url:
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return headers

    def build(self, recipient: Recipient, stand_ins: bool = False) -> EmailMessage:
        """The whole message as an :class:`EmailMessage` (``stand_ins``: with the small
        stand-in bodies that :meth:`build_bytes` replaces)."""
        _subject, text, html = self.render(recipient)
        msg = EmailMessage(policy=POLICY)
        for name, value in self.headers(recipient).items():
            msg[name] = value
        msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        # Only the images the HTML shows: an issue's own template may not show the cover,
        # and an unreferenced inline part appears as a stray attachment in some programs.
        shown = [i for i, image in enumerate(self.images) if f"cid:{image.cid}" in html]
        if shown:
            html_part = msg.get_payload()[1]
            html_part.make_related()
            parts = self._image_stand_ins if stand_ins else self.image_parts
            for i in shown:
                html_part.attach(parts[i])
        if self.pdf_part is not None:
            msg.make_mixed()
            msg.attach(self._pdf_stand_in if stand_ins else self.pdf_part)
        return msg

    def build_bytes(self, recipient: Recipient, linesep: str = "\r\n") -> bytes:
        """The message as bytes: CRLF for SMTP, ``linesep="\n"`` for .eml files.

        The same bytes as ``build(recipient).as_bytes()``, several times faster."""
        data = self.build(recipient, stand_ins=True).as_bytes(
            policy=POLICY.clone(linesep=linesep))
        verify_headers(data, self.headers(recipient))
        eol = linesep.encode()
        for stand_in, real, optional in self._splices:
            stand_in = stand_in.replace(b"\n", eol)
            count = data.count(stand_in)
            if count == 0 and optional:
                continue  # an image the HTML does not show
            if count != 1:  # pragma: no cover - a token collision
                return self.build(recipient).as_bytes(policy=POLICY.clone(linesep=linesep))
            data = data.replace(stand_in, real.replace(b"\n", eol))
        return data


#: The headers the project writes at the top of a message, besides ``headers()``'s.
MIME_HEADERS = ("Content-Type", "MIME-Version")


def verify_headers(data: bytes, expected: dict[str, object]) -> None:
    """Parse the serialised message back and refuse it unless its top-level headers are
    exactly the ones we built, once each. A last guard, whatever the Python version: if
    any value still broke a header line, a header appears that we did not write."""
    parsed = BytesHeaderParser(policy=policy.default).parsebytes(data)
    names = [name.lower() for name in parsed.keys()]
    wanted = sorted(n.lower() for n in (*expected, *MIME_HEADERS))
    if sorted(names) != wanted:
        extra = sorted(set(names) - set(wanted)) or sorted(set(wanted) - set(names))
        raise HeaderValueError("the message's headers would not be the ones newsletter "
                               f"builds ({', '.join(extra) or 'a repeated header'}); a value "
                               "from the recipient list or the manifest breaks a header")
