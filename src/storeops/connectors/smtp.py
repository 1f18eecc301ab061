"""Email over SMTP: replies to customers, order notices, alerts to staff, each rendered from a
Jinja2 template (``templates/email/<action>.txt`` and ``.html``) as a text and an HTML part.

Threading: every mail has a Message-ID derived from its outbox key (the same mail sent twice
has the same id), and a reply carries ``In-Reply-To`` and ``References`` of the customer's mail
and ``Re:`` its subject, so it lands in the customer's thread.

SMTP takes no idempotency key, so the connector marks the moment of no return: the whole mail is
given to the server, the mark is written (``Handovers``), and only then the final ``.`` that
makes the server take it. A sender killed before the mark sends the mail again in full after its
lease; one killed after it does not resend (the server may have it) and the message is dead
with ``Uncertain`` for a person to check and re-run. A mail is never sent twice by storeops.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape

from storeops.connectors.base import Handovers, Rejected, RemoteError, Uncertain
from storeops.errors import InvalidInput

TEMPLATES = Path(__file__).parent / "templates" / "email"
SUBJECTS = {
    "reply.send": "Re: {subject}",
    "order.shipped": "Your order {order} is on its way",
    "order.cancelled": "Your order {order} is cancelled",
    "order.changed": "Your order {order} now goes to the new address",
    "order.change_declined": "About the change to your order {order}",
    "order.change_too_late": "Your order {order} can no longer change",
    "order.refunded": "Your refund for order {order}",
    "return.authorized": "Your return {rma} for order {order}: label and next steps",
    "return.refunded": "Your refund for return {rma}",
    "return.reviewing": "We are looking at your return {rma}",
    "return.rejected": "About your return {rma}",
    "return.refused": "About your return request for order {order}",
    "handoff.alert": "[storeops] {desk}: {subject} needs a person",
    "vendor.sla_breach": "Purchase order {purchase_order}: delivery {what}",
    "vendor.sla_team": "[storeops] {desk}: {subject} and its SLA",
    "vendor.report": "[storeops] {title}, {period}",
}
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class SmtpUrl:
    """``smtp://user:pass@host:587`` (STARTTLS) or ``smtps://user:pass@host:465`` (TLS from the start)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InvalidInput(
                "STOREOPS_SMTP_URL must look like smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465",
                field="STOREOPS_SMTP_URL",
            )
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    def __str__(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{who}{self.host}:{self.port}"


def message_id(key: str, domain: str) -> str:
    """The Message-ID of the mail of outbox key ``key``: the same for every send of it."""
    return f"<storeops.{hashlib.sha256(key.encode()).hexdigest()[:24]}@{domain}>"


MAX_ATTACHMENT_BYTES = 10_000_000


def _attach(mail: EmailMessage, action: str, attachment: Any) -> None:
    """Add one ``{"filename", "content_type", "base64"}`` attachment (the vendors report's PDF and CSV)."""
    import base64
    import binascii

    try:
        name = str(attachment["filename"])
        maintype, _, subtype = str(attachment["content_type"]).partition("/")
        data = base64.b64decode(str(attachment["base64"]), validate=True)
    except (KeyError, TypeError, binascii.Error) as exc:
        raise Rejected(f"email: {action} has a malformed attachment: {exc}") from None
    if not name or "/" in name or not maintype or not subtype or len(data) > MAX_ATTACHMENT_BYTES:
        raise Rejected(f"email: {action} has an attachment storeops does not send ({name[:60]!r})")
    mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)


class SmtpConnector:
    """Sends the ``email`` connector's messages through one SMTP account."""

    def __init__(
        self,
        url: str,
        mail_from: str,
        *,
        handovers: Handovers | None = None,
        store_name: str = "",
        timeout: float = 30.0,
        templates: Path = TEMPLATES,
    ) -> None:
        self.name = "email"
        self.url = SmtpUrl(url)
        name, address = parseaddr(mail_from)
        if "@" not in address:
            raise InvalidInput(
                f"STOREOPS_MAIL_FROM {mail_from!r} is not an address such as 'Acme Shop <shop@acme.example>'",
                field="STOREOPS_MAIL_FROM",
            )
        self.mail_from = mail_from
        self.from_address = address
        self.domain = address.rsplit("@", 1)[1]
        self.store_name = store_name or name or self.domain
        self.handovers = handovers
        self.timeout = timeout
        self.templates = Environment(
            loader=FileSystemLoader(str(templates)),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    # -- the mail --

    def render(self, action: str, payload: dict[str, Any], key: str) -> EmailMessage:
        """The mail of one outbox message (text and HTML parts, threading headers)."""
        to = str(payload.get("to") or "")
        if "@" not in parseaddr(to)[1]:
            raise Rejected(f"email: {action} has no recipient address (payload 'to')")
        values = {
            "store_name": self.store_name,
            "tracking_numbers": [],
            "carrier": None,
            "reason": None,
            "refund_text": None,
            "link": None,
            "breached": False,
            **payload,
        }
        try:
            text = self.templates.get_template(f"{action}.txt").render(values)
            html = self.templates.get_template(f"{action}.html").render(values)
        except TemplateNotFound:
            raise Rejected(f"email: no template for {action!r} (templates/email/{action}.txt and .html)") from None
        except Exception as exc:
            raise Rejected(f"email: the {action} template could not be filled: {exc}") from None
        mail = EmailMessage()
        subject = str(payload.get("email_subject") or payload.get("subject_line") or "")
        if action == "reply.send":
            subject = subject if subject.lower().startswith("re:") else f"Re: {subject or 'your message'}"
        else:
            subject = SUBJECTS.get(action, "{action}").format(**{"action": action, "subject": "", **payload})
        mail["Subject"] = subject
        mail["From"] = self.mail_from
        mail["To"] = to
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(key, self.domain)
        parent = str(payload.get("in_reply_to") or "").strip()
        if parent:
            mail["In-Reply-To"] = parent
            references = [r for r in str(payload.get("references") or "").split() if r != parent]
            mail["References"] = " ".join([*references, parent])
        if payload.get("reply_to"):
            mail["Reply-To"] = str(payload["reply_to"])
        mail.set_content(text)
        mail.add_alternative(html, subtype="html")
        for attachment in payload.get("attachments") or []:
            _attach(mail, action, attachment)
        return mail

    # -- sending --

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        try:
            if self.url.implicit_tls:
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.url.host, self.url.port, timeout=self.timeout, context=context
                )
            else:
                server = smtplib.SMTP(self.url.host, self.url.port, timeout=self.timeout)
                server.ehlo()
                if server.has_extn("starttls"):
                    server.starttls(context=context)
                    server.ehlo()
                elif self.url.password and self.url.host not in LOOPBACK:
                    server.close()
                    raise RemoteError(
                        f"email: {self.url.host} offers no STARTTLS; storeops will not send the password in clear "
                        "(use smtps:// or a server that offers STARTTLS)"
                    )
            if self.url.user and self.url.password:
                server.login(self.url.user, self.url.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise RemoteError(f"email: {self.url} refused the login: {exc.smtp_code} {exc.smtp_error!r}") from None
        except (OSError, smtplib.SMTPException) as exc:
            if isinstance(exc, RemoteError):
                raise
            raise RemoteError(f"email: cannot reach {self.url}: {type(exc).__name__}: {exc}") from None
        return server

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        mail = self.render(action, payload, idempotency_key)
        if self.handovers is not None and self.handovers.handed_over(idempotency_key):
            raise Uncertain(
                f"email: an earlier attempt gave this mail ({mail['Message-ID']}, to {mail['To']}) to {self.url.host} "
                "and stopped before hearing back, so it may have arrived. Check the account's sent mail, then "
                "re-run it from the dead letters to send it again."
            )
        recipient = parseaddr(str(mail["To"]))[1]
        data = _dot_stuffed(mail.as_bytes(policy=SMTP))
        server = self._connect()
        try:
            code, answer = server.mail(self.from_address)
            if code != 250:
                raise RemoteError(f"email: MAIL FROM refused: {code} {answer!r}")
            code, answer = server.rcpt(recipient)
            if code not in (250, 251):
                if 500 <= code < 600:
                    raise Rejected(
                        f"email: {recipient} refused by {self.url.host}: {code} {answer.decode(errors='replace')}"
                    )
                raise RemoteError(f"email: RCPT TO {recipient} deferred: {code} {answer!r}")
            server.putcmd("data")
            code, answer = server.getreply()
            if code != 354:
                raise RemoteError(f"email: DATA refused: {code} {answer!r}")
            server.send(data)
            # The point of no return: once the server has the final dot, it has the mail.
            if self.handovers is not None:
                self.handovers.hand_over(idempotency_key)
            server.send(b".\r\n")
            code, answer = server.getreply()
            if code != 250:
                if 500 <= code < 600:
                    raise Rejected(f"email: {self.url.host} refused the mail: {code} {answer.decode(errors='replace')}")
                raise RemoteError(f"email: {self.url.host} deferred the mail: {code} {answer!r}")
        except (OSError, smtplib.SMTPException) as exc:
            raise RemoteError(f"email: {self.url.host} dropped the session: {type(exc).__name__}: {exc}") from None
        finally:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()

    def check(self) -> str:
        """Connect, TLS, log in, NOOP: one line on the account."""
        server = self._connect()
        try:
            server.noop()
        finally:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()
        return f"{self.url} accepts {self.from_address}"


def _dot_stuffed(data: bytes) -> bytes:
    """The mail as DATA carries it, up to (not including) the terminating ``.``: CRLF line ends,
    a line starting with ``.`` doubled (RFC 5321 4.5.2), ending in CRLF."""
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


__all__ = ["SmtpConnector", "SmtpUrl", "message_id"]
