"""``newsletter send``: the email edition to every recipient of a CSV list, exactly once.

Everything that can be checked is checked before the first connection: the manifest's
``distribution:`` settings, the whole recipient list, the templates (rendered for the first
recipient), the PDF (built if missing or stale, preflighted for email, under the attachment
limit), the journal (which distribution this is, who already has it). Then it asks for
confirmation and sends, recording each recipient's state in the journal (:mod:`journal`).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from .errors import NewsletterError, Problem, Problems, UsageError, ValidationError, display_path
from .i18n import issue_label, load_words, localised_folders, period
from .journal import Journal, journal_path
from .language import direction
from .mail import (
    HeaderValueError,
    InlineImage,
    MessageFactory,
    Recipient,
    Sender,
    Templates,
    attachment_name,
    check_address,
    header_text,
    read_recipients,
)
from .mailbody import Thumbnail, contents, pdf_url, readable_on_white, thumbnail
from .send import (
    SECURITY,
    Connection,
    Deliverer,
    Policy,
    Report,
    build_email_pdf,
    email_pdf_path,
    pdf_is_stale,
    preflight_email,
    settings_from,
    sha256_file,
    take_password,
)

DEFAULT_COLOURS = {"primary": "#0b4f8a", "accent": "#d9822b", "tint": "#e8f0f7",
                   "ink": "#1a1a1a"}


@dataclass
class Prepared:
    manifest: object
    distribution: object
    recipients: list[Recipient]
    layout: object
    templates: Templates
    sender: Sender
    out_dir: Path
    warnings: list[Problem]
    password: str | None = None  # NEWSLETTER_SMTP_PASSWORD, taken out of the environment


def human_size(size: int) -> str:
    if size >= 1_048_576:
        return f"{size / 1_048_576:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def prepare(issue: Path, to_csv: Path, out_dir: Path | None, skip_invalid: bool) -> Prepared:
    """Manifest, distribution settings, recipients and templates — every problem at once."""
    from .build import default_output_dir
    from .layouts import load_layout
    from .manifest import load_manifest

    # The password leaves the environment before any build, template or child runs.
    password = take_password()
    problems = Problems()
    manifest = load_manifest(issue, problems)
    problems.raise_if_errors()
    dist = manifest.distribution
    if dist is None:
        raise NewsletterError(f"{display_path(manifest.path)}: there is no 'distribution:' "
                              "section; add one with at least from_address (see README, "
                              "'Sending by email')")
    where = {"file": manifest.path}
    if not check_address(dist.from_address or "")[0]:
        problems.error(f"invalid sender address: {check_address(dist.from_address or '')[1]}",
                       key="distribution.from_address", **where)
    if dist.reply_to and not check_address(dist.reply_to)[0]:
        problems.error(f"invalid address: {check_address(dist.reply_to)[1]}",
                       key="distribution.reply_to", **where)
    if dist.unsubscribe_mailto:
        mailto = dist.unsubscribe_mailto.removeprefix("mailto:")
        if not check_address(mailto)[0]:
            problems.error(f"invalid address: {check_address(mailto)[1]}",
                           key="distribution.unsubscribe_mailto", **where)
    if dist.unsubscribe_url and not re.match(r"^https://[^\s<>]+$", dist.unsubscribe_url):
        problems.error("one-click unsubscribe needs an https:// URL (RFC 8058)",
                       key="distribution.unsubscribe_url", **where)
    for key in ("from_name", "from_address", "reply_to", "subject", "unsubscribe_mailto",
                "unsubscribe_url"):
        try:
            header_text(getattr(dist, key) or "", f"distribution.{key}")
        except HeaderValueError as exc:
            located = (manifest.locations or {}).get(f"distribution.{key}")
            place = {**(located.as_kwargs() if located else where), "key": f"distribution.{key}"}
            problems.error(str(exc).removeprefix(f"distribution.{key} "), **place)
    if not (dist.unsubscribe_mailto or dist.unsubscribe_url):
        problems.warn("no unsubscribe_mailto or unsubscribe_url: messages will carry no "
                      "List-Unsubscribe header, and bulk mail without one is often junked",
                      key="distribution", **where)
    if dist.attachment_limit_mb is not None and dist.attachment_limit_mb <= 0:
        problems.error("must be more than 0", key="distribution.attachment_limit_mb", **where)
    if dist.attach is False and not (dist.web_url or dist.pdf_url):
        located = (manifest.locations or {}).get("distribution.attach")
        problems.error("the PDF is not attached, so the message must link to it: add web_url "
                       "(the web edition's address) or pdf_url (the PDF's)",
                       **{**(located.as_kwargs() if located else where),
                          "key": "distribution.attach"})
    if dist.rate_per_minute is not None and dist.rate_per_minute < 0:
        problems.error("must be 0 (no limit) or more", key="distribution.rate_per_minute",
                       **where)
    list_problems = Problems()
    recipients = read_recipients(to_csv, list_problems)
    if skip_invalid:
        for p in list_problems.items:
            problems.items.append(p if p.warning else Problem(
                p.message + "; skipped (--skip-invalid)", p.file, p.line, p.column, p.key,
                warning=True))
        if not recipients:
            problems.error("no valid recipients", file=to_csv)
    else:
        problems.extend(list_problems)
    layout = load_layout(manifest, problems)
    if problems.errors:
        _echo_warnings(problems.warnings)
        if any(p.file is not None and Path(p.file) == Path(to_csv) for p in problems.errors):
            click.echo("Nothing was sent. Fix the recipient list, or rerun with --skip-invalid "
                       "to leave those rows out.", err=True)
        raise ValidationError(problems.items)
    folders = localised_folders([manifest.folder / "email",
                                 *(d / "email" for d in layout.chain)], manifest.issue.language)
    templates = Templates(folders, subject_override=dist.subject or None)
    sender = Sender(from_address=check_address(dist.from_address)[0],
                    from_name=dist.from_name or "", reply_to=dist.reply_to or "",
                    unsubscribe_mailto=(dist.unsubscribe_mailto or "").removeprefix("mailto:"),
                    unsubscribe_url=dist.unsubscribe_url or "")
    out = Path(out_dir) if out_dir else default_output_dir(manifest)
    return Prepared(manifest, dist, recipients, layout, templates, sender, out,
                    problems.warnings, password)


def local_words(prep: Prepared) -> dict:
    """The layout's fixed words in the issue's language."""
    m = prep.manifest
    return load_words(prep.layout, m.issue.language, m.words, Problems(), m.path)


def local_label(prep: Prepared) -> str:
    """The issue line in the issue's language (the layout's word table)."""
    return issue_label(prep.manifest, local_words(prep))


def template_context(prep: Prepared, filename: str, size: int, *, pdf_link: str = "",
                     cover: Thumbnail | None = None, cover_cid: str = "") -> dict:
    """What the message templates see (README, 'The message'): ``pdf_link`` is the PDF's
    address when it is linked instead of attached, ``cover`` the inline thumbnail."""
    from .articles import inline_renderer, read_articles

    m, d = prep.manifest, prep.distribution
    problems = Problems()
    articles = read_articles(m, problems)
    problems.raise_if_errors()
    colours = dict(DEFAULT_COLOURS)
    colours.update({k: v for k, v in (prep.layout.colours or {}).items() if v})
    if m.newsletter.colours:
        for key in DEFAULT_COLOURS:
            if getattr(m.newsletter.colours, key, None):
                colours[key] = getattr(m.newsletter.colours, key)
    # Small text in the brand colours stays readable (WCAG AA) on the message's white.
    colours.update(primary=readable_on_white(colours["primary"]),
                   accent=readable_on_white(colours["accent"]))
    return dict(
        newsletter=m.newsletter.title, organisation=m.newsletter.organisation,
        tagline=m.newsletter.tagline or "", url=m.newsletter.url or "",
        period=period(m, local_words(prep)), issue_label=local_label(prep),
        issue_number=m.issue.number,
        issue_date=m.issue.date.isoformat(), language=m.issue.language or "en",
        dir=direction(m.issue.language, m.issue.dir),
        attachment=filename, attachment_size=human_size(size),
        from_name=d.from_name or "", from_address=d.from_address,
        unsubscribe_url=d.unsubscribe_url or "",
        unsubscribe_mailto=(d.unsubscribe_mailto or "").removeprefix("mailto:"),
        colours=colours, words=local_words(prep), attached=not pdf_link, pdf_url=pdf_link,
        web_url=d.web_url or "",
        contents=contents(m, articles, inline_renderer(m.issue.language), d.web_url or ""),
        cover={"cid": cover_cid, "alt": cover.alt, "width": cover.width,
               "height": cover.height} if cover else None)


def _echo_warnings(warnings) -> None:
    for w in warnings:
        click.echo(str(w), err=True)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._+-]+", "_", text)[:80]


@click.command()
@click.argument("issue", type=click.Path(path_type=Path))
@click.option("--to", "to_csv", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Recipient list: CSV with 'email' and 'name' columns (others go to the "
                   "templates).")
@click.option("--dry-run", "dry_run", type=click.Path(path_type=Path, file_okay=False),
              help="Write every message as an .eml file into this folder; connect to nothing.")
@click.option("-y", "--yes", is_flag=True, help="Send without asking (needed without a terminal).")
@click.option("--retry-unknown", is_flag=True,
              help="Also send to recipients whose earlier message has an unknown outcome "
                   "(they may get it twice).")
@click.option("--retry-failed", is_flag=True,
              help="Also retry recipients refused permanently (5xx) by an earlier run.")
@click.option("--new-distribution", is_flag=True,
              help="The PDF changed: send the new one to everyone on the list, even those "
                   "who received the previous one.")
@click.option("--no-rebuild", is_flag=True,
              help="Send the email PDF as it is, even if the issue changed since it was built.")
@click.option("--skip-invalid", is_flag=True,
              help="Leave out invalid rows of the list instead of refusing to send.")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Build folder with the email PDF and the send journal "
                   "(default: build/<issue folder name>/).")
@click.option("--smtp-host", help="SMTP server [env NEWSLETTER_SMTP_HOST].")
@click.option("--smtp-port", type=click.IntRange(1, 65535),
              help="Port [env NEWSLETTER_SMTP_PORT; default 587, 465 for tls, 25 for none].")
@click.option("--smtp-security", type=click.Choice(SECURITY, case_sensitive=False),
              help="none, starttls or tls [env NEWSLETTER_SMTP_SECURITY; default starttls].")
@click.option("--smtp-user", help="Login name [env NEWSLETTER_SMTP_USER]; the password comes "
                                  "from NEWSLETTER_SMTP_PASSWORD or a prompt.")
@click.option("--insecure-auth", is_flag=True,
              help="Allow a login over --smtp-security none to a host that is not loopback "
                   "(the password travels in clear text).")
@click.option("--smtp-ca-file", type=click.Path(path_type=Path, dir_okay=False),
              help="Trust this CA certificate (PEM) [env NEWSLETTER_SMTP_CA_FILE].")
@click.option("--smtp-timeout", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Seconds to wait for the server.")
@click.option("--rate", type=click.FloatRange(min=0),
              help="At most this many messages a minute (default: distribution.rate_per_minute;"
                   " 0: no limit).")
@click.option("--max-attempts", type=click.IntRange(1, 50), default=5, show_default=True,
              help="Attempts per recipient for temporary (4xx) failures.")
@click.option("--retry-delay", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="Seconds before the first retry; doubles each time (at most 5 minutes).")
@click.option("--allow-remote", is_flag=True, help="When building: allow http(s) resources.")
@click.pass_context
def send(ctx, issue, to_csv, dry_run, yes, retry_unknown, retry_failed, new_distribution,
         no_rebuild, skip_invalid, out_dir, smtp_host, smtp_port, smtp_security, smtp_user,
         insecure_auth, smtp_ca_file, smtp_timeout, rate, max_attempts, retry_delay,
         allow_remote):
    """Email the email edition of ISSUE to every recipient of a CSV list, once.

    Resumable: a send journal in the build folder records every recipient's state, so a
    rerun after a crash or Ctrl-C sends only to those who have not got it.
    """
    prep = prepare(issue, to_csv, out_dir, skip_invalid)
    _echo_warnings(prep.warnings)
    out = prep.out_dir
    jpath = journal_path(out)
    journal = None
    if not dry_run:
        journal = Journal(jpath)
        journal.lock()
    elif jpath.exists():
        journal = Journal(jpath)  # read only: to protect a PDF that is being sent
    try:
        _run(ctx, prep, journal, out, to_csv, dry_run, yes, retry_unknown, retry_failed,
             new_distribution, no_rebuild, skip_invalid, smtp_host, smtp_port, smtp_security,
             smtp_user, insecure_auth, smtp_ca_file, smtp_timeout, rate, max_attempts,
             retry_delay, allow_remote)
    finally:
        if journal is not None:
            journal.close()


def _run(ctx, prep, journal, out, to_csv, dry_run, yes, retry_unknown, retry_failed,
         new_distribution, no_rebuild, skip_invalid, smtp_host, smtp_port, smtp_security,
         smtp_user, insecure_auth, smtp_ca_file, smtp_timeout, rate, max_attempts,
         retry_delay, allow_remote):
    manifest, dist = prep.manifest, prep.distribution
    if journal is not None and not dry_run:
        recovered = journal.recover()
        if recovered:
            click.echo(f"{recovered} message(s) were being sent when an earlier run stopped; "
                       "their outcome is unknown (see below).", err=True)

    # -- the PDF: built if missing or stale, never silently replaced mid-distribution ----
    pdf = email_pdf_path(manifest, out)
    stale = pdf_is_stale(pdf, manifest, list(prep.layout.chain), out)
    if stale and pdf.is_file() and no_rebuild:
        click.echo(f"note: {display_path(pdf)} is older than the issue ({stale}); sending it "
                   "as it is (--no-rebuild)", err=True)
    elif stale:
        if pdf.is_file() and journal is not None and not new_distribution:
            started = journal.info(sha256_file(pdf))
            if started is not None and started.started:
                raise NewsletterError(
                    f"the issue changed since {display_path(pdf)} was built ({stale}), and that "
                    f"PDF was already sent to {started.counts.get('sent', 0)} recipient(s). To "
                    "finish sending the same PDF, rerun with --no-rebuild; to rebuild and send "
                    "the new PDF to everyone on the list, rerun with --new-distribution.")
        click.echo(f"building the email edition ({stale})…", err=True)
        built, warnings = build_email_pdf(manifest, out, allow_remote=allow_remote)
        _echo_warnings(warnings)
        pdf = Path(built.path)
    if no_rebuild and not pdf.is_file():
        raise NewsletterError(f"{display_path(pdf)} does not exist; build it first "
                              "(or drop --no-rebuild)")
    size = pdf.stat().st_size
    limit_mb = dist.attachment_limit_mb if dist.attachment_limit_mb is not None else 10.0
    limit = int(limit_mb * 1_048_576)
    # Linked instead of attached when asked (attach: false) or when too large to attach,
    # and only with an address to link to; too large without one is refused.
    link = pdf_url(dist, pdf.name)
    attach = dist.attach is not False
    if size > limit:
        if not link:
            raise NewsletterError(f"{display_path(pdf)} is {human_size(size)}, over the "
                                  f"attachment limit of {limit_mb:g} MB "
                                  "(distribution.attachment_limit_mb); lower email.ppi or "
                                  "email.jpeg_quality and rebuild")
        attach = False
    # A linked PDF travels by no mail server: the attachment limit is not its budget.
    failures = preflight_email(pdf, limit if attach else max(limit, size))
    if failures:
        raise NewsletterError(f"{display_path(pdf)} fails the email preflight, so it is not "
                              "sent:\n  " + "\n  ".join(failures))
    data = pdf.read_bytes()
    sha = sha256_file(pdf)
    filename = attachment_name(manifest.newsletter.title, local_label(prep))
    from .imageprep import cache_dir_for

    cover = thumbnail(manifest, cache_dir_for(out))
    images = []
    if cover is not None:
        images.append(InlineImage(cover.data, f"cover.{cover.digest}@{prep.sender.domain}"))
    context = template_context(prep, filename, size, pdf_link="" if attach else link,
                               cover=cover, cover_cid=images[0].cid if images else "")
    factory = MessageFactory(templates=prep.templates, sender=prep.sender,
                             pdf=data if attach else None, filename=filename,
                             distribution=sha, context=context, images=images)
    what = (f"attachment {filename!r} ({human_size(size)})" if attach
            else f"the PDF linked, not attached: {link} ({human_size(size)})")
    recipients = _checked_messages(factory, prep.recipients, to_csv, skip_invalid)
    first_subject = factory.render(recipients[0])[0]

    if dry_run:
        dry_run.mkdir(parents=True, exist_ok=True)
        for i, r in enumerate(recipients, 1):
            message = factory.build_bytes(r, linesep="\n")
            (dry_run / f"{i:04d}-{_safe(r.email)}.eml").write_bytes(message)
        click.echo(f"dry run: {len(recipients)} message(s) written to {display_path(dry_run)} "
                   f"— subject {first_subject!r}, {what}; nothing was sent")
        return

    # -- which distribution is this? -------------------------------------------------
    info = journal.info(sha)
    create = False
    if info is not None:
        if new_distribution:
            raise UsageError("--new-distribution: this PDF is unchanged since distribution "
                             f"{sha[:12]} ({info.counts.get('sent', 0)} sent); a rerun resumes "
                             "it without the option, and nobody gets it twice")
    else:
        latest = journal.latest()
        if latest is not None and latest.started and not new_distribution:
            raise NewsletterError(
                f"the email PDF changed since distribution {latest.id[:12]} started "
                f"({latest.counts.get('sent', 0)} sent, {latest.counts.get('unknown', 0)} "
                "unknown). Rerun with --new-distribution to send the new PDF to everyone on "
                "the list, including those who received the previous one.")
        create = True
    rows = {} if create else journal.rows(sha)

    to_send: list[Recipient] = []
    already, held_unknown, held_failed = [], [], []
    for r in recipients:
        row = rows.get(r.key)
        state = row.state if row else "pending"
        if state == "sent":
            already.append(r)
        elif state == "unknown" and not retry_unknown:
            held_unknown.append((r, row))
        elif (state == "failed" and row.last_code and 500 <= row.last_code < 600
              and not retry_failed):
            held_failed.append((r, row))
        else:
            to_send.append(r)

    rate_per_minute = rate if rate is not None else float(dist.rate_per_minute or 0)
    settings = None
    if to_send:
        settings = settings_from(smtp_host, smtp_port, smtp_security, smtp_user, smtp_ca_file,
                                 smtp_timeout, password_prompt=_password_prompt(),
                                 insecure_auth=insecure_auth, password=prep.password)
    click.echo(f"Issue:        {manifest.newsletter.title} — {manifest.issue_label}")
    click.echo(f"Attachment:   {filename} ({human_size(size)}, {display_path(pdf)})" if attach
               else f"PDF:          linked, not attached: {link} ({human_size(size)}, "
                    f"{display_path(pdf)} — upload it there before sending)")
    click.echo(f"Subject:      {first_subject}")
    click.echo(f"From:         {prep.sender.from_name + ' ' if prep.sender.from_name else ''}"
               f"<{prep.sender.from_address}>")
    click.echo(f"Recipients:   {len(recipients)} in {display_path(to_csv)}; "
               f"{len(to_send)} to send now"
               + (f", {len(already)} already sent" if already else "")
               + (f", {len(held_unknown)} unknown (not retried)" if held_unknown else "")
               + (f", {len(held_failed)} refused earlier (not retried)" if held_failed else ""))
    if settings:
        click.echo(f"SMTP server:  {settings.describe()}"
                   + (f", at most {rate_per_minute:g} a minute" if rate_per_minute else ""))
    click.echo(f"Distribution: {sha[:12]} ({'new' if create else 'resumed'}), journal "
               f"{display_path(journal.path)}")

    report = Report()
    if to_send:
        if not yes:
            if not _interactive():
                raise UsageError("refusing to send without confirmation: there is no "
                                 "terminal to ask; rerun with --yes")
            click.confirm(f"Send to {len(to_send)} recipient(s)?", abort=True)
        if create:
            journal.create(sha, filename, size)
        journal.touch(sha)
        journal.register(sha, recipients)
        deliverer = Deliverer(journal=journal, distribution=sha, factory=factory,
                              connection=Connection(settings),
                              envelope_from=prep.sender.from_address,
                              policy=Policy(rate_per_minute=rate_per_minute,
                                            max_attempts=max_attempts, retry_delay=retry_delay))
        with click.progressbar(length=len(to_send), label="Sending", file=sys.stderr,
                               show_pos=True, item_show_func=lambda s: s) as bar:
            def progress(rep: Report, _r) -> None:
                bar.update(1, f"sent {len(rep.sent)} · failed "
                              f"{len(rep.failed) + len(rep.deferred)} · unknown "
                              f"{len(rep.unknown)}")
            deliverer.progress = progress
            report = deliverer.run(to_send)
    else:
        click.echo("Nothing to send.")
    code = _summary(report, already, held_unknown, held_failed, recipients)
    if report.interrupted:
        click.echo("interrupted; rerun the same command to send to the rest.", err=True)
        ctx.exit(130)
    if code:
        ctx.exit(code)


def _checked_messages(factory: MessageFactory, recipients: list[Recipient], to_csv: Path,
                      skip_invalid: bool) -> list[Recipient]:
    """Every recipient's message, personalised and its headers checked, before the first is
    sent: a bad row is found now (all of them at once), never half-way through the list."""
    problems = Problems()
    good = []
    for r in recipients:
        try:
            factory.headers(r)  # renders the templates too: their errors surface here
        except HeaderValueError as exc:
            problems.error(f"{exc} (in this row's message)", file=to_csv, line=r.line)
            continue
        good.append(r)
    if problems.errors and not (skip_invalid and good):
        click.echo("Nothing was sent. Fix the recipient list, or rerun with --skip-invalid "
                   "to leave those rows out.", err=True)
        raise ValidationError(problems.items)
    for p in problems.errors:
        click.echo(f"warning: {p}; skipped (--skip-invalid)", err=True)
    return good


def _summary(report: Report, already, held_unknown, held_failed, recipients) -> int:
    lines = {r.email: r.line for r in recipients}
    failed = ([(e, c, t) for e, c, t in report.failed + report.deferred]
              + [(r.email, row.last_code, row.last_error or "") for r, row in held_failed])
    unknown = (list(report.unknown)
               + [(r.email, row.last_error or "outcome unknown") for r, row in held_unknown])
    rate = ""
    if report.sent and report.seconds > 0:
        rate = (f" in {report.seconds:.1f} s ({len(report.sent) / report.seconds:.1f} "
                f"messages/s, {report.connections} connection"
                f"{'s' if report.connections != 1 else ''})")
    click.echo(f"Summary: {len(report.sent)} sent, {len(failed)} failed, {len(already)} "
               f"skipped (already sent), {len(unknown)} unknown{rate}")
    if failed:
        click.echo("Failed:")
        for email, code, text in failed:
            click.echo(f"  {email} (line {lines.get(email, '?')}): {text or code}")
        if report.deferred:
            click.echo("  (temporary failures are tried again by the next run)")
    if unknown:
        click.echo("Unknown outcome — the server may have accepted these; they are not sent "
                   "again unless you rerun with --retry-unknown (they may then get it twice):")
        for email, text in unknown:
            click.echo(f"  {email} (line {lines.get(email, '?')}): {text}")
    if report.aborted:
        click.echo(f"error: stopped: {report.aborted}; rerun to send to the rest", err=True)
    return 1 if failed or unknown or report.aborted else 0


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _password_prompt():
    if not _interactive():
        return None
    return lambda user: click.prompt(f"SMTP password for {user}", hide_input=True)
