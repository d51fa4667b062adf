"""ACS3-HMAC-SHA256 ("V3") request signing for Alibaba Cloud APIs, as specified in "V3 request
structure and signature" (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature).

Pure functions over :class:`RequestParts` (method, path as sent, decoded query, lower-case headers, body bytes).
:func:`sign` returns the headers to send; :func:`verify` is the server side used by the emulator.
Signed headers: ``host``, ``content-type`` (when present) and every ``x-acs-*`` header; ``accept`` and
``user-agent`` are sent unsigned.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from ...errors import PlatformError

ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_AUTHORIZATION = re.compile(
    r"^ACS3-HMAC-SHA256 Credential=(?P<key_id>[^,\s]+),SignedHeaders=(?P<signed>[^,\s]+),Signature=(?P<sig>[0-9a-f]+)$"
)


@dataclass(frozen=True)
class RequestParts:
    """What the signature covers. ``path`` is percent-encoded as sent; ``query`` holds decoded values."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""


class SignatureError(PlatformError):
    """A request whose signature cannot be accepted; ``code`` is the Alibaba Cloud error code."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def percent_encode(value: str) -> str:
    """RFC 3986 encoding: unreserved ``A-Za-z0-9-_.~`` kept, space → ``%20``, ``*`` → ``%2A``."""
    return quote(value, safe="-_.~")


def canonical_query_string(query: Mapping[str, str]) -> str:
    """``name=value`` pairs sorted by name, values percent-encoded, joined with ``&`` (names are plain ASCII)."""
    return "&".join(f"{name}={percent_encode(str(query[name]))}" for name in sorted(query))


def hashed_payload(body: bytes) -> str:
    """Lower-hex SHA-256 of the exact body bytes (the ``x-acs-content-sha256`` value)."""
    return hashlib.sha256(body).hexdigest()


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    """The headers to sign: ``host``, ``content-type`` and every ``x-acs-*`` header present, sorted."""
    names = {name.lower() for name in headers}
    return sorted(name for name in names if name in ("host", "content-type") or name.startswith("x-acs-"))


def canonical_request(parts: RequestParts, signed_names: list[str]) -> str:
    """The V3 canonical request: method, URI, query, canonical headers, blank line, signed names, hashed payload."""
    lower = {name.lower(): value for name, value in parts.headers.items()}
    canonical_headers = "".join(f"{name}:{lower[name].strip()}\n" for name in signed_names)
    return "\n".join([
        parts.method.upper(),
        parts.path or "/",
        canonical_query_string(parts.query),
        canonical_headers,
        ";".join(signed_names),
        lower.get("x-acs-content-sha256", hashed_payload(parts.body)),
    ])


def string_to_sign(canonical: str) -> str:
    """``ACS3-HMAC-SHA256`` + newline + hex SHA-256 of the canonical request."""
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def signature(access_key_secret: str, to_sign: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed with the AccessKey secret."""
    return hmac.new(access_key_secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(parts: RequestParts, access_key_id: str, access_key_secret: str,
         security_token: str | None = None) -> dict[str, str]:
    """The headers to send: ``parts.headers`` plus ``x-acs-content-sha256``, the STS headers when a
    ``security_token`` is given (``x-acs-security-token`` and ``x-acs-accesskey-id``, as the SDK does)
    and ``authorization``."""
    headers = {name.lower(): value for name, value in parts.headers.items()}
    headers["x-acs-content-sha256"] = hashed_payload(parts.body)
    if security_token:
        headers["x-acs-security-token"] = security_token
        headers["x-acs-accesskey-id"] = access_key_id
    names = signed_header_names(headers)
    canonical = canonical_request(RequestParts(parts.method, parts.path, parts.query, headers, parts.body), names)
    sig = signature(access_key_secret, string_to_sign(canonical))
    headers["authorization"] = f"{ALGORITHM} Credential={access_key_id},SignedHeaders={';'.join(names)},Signature={sig}"
    return headers


def verify(parts: RequestParts, secret_lookup: Callable[[str], str | None]) -> str:
    """Check a received request's V3 signature; return its AccessKey id or raise :class:`SignatureError`.

    ``secret_lookup(key_id)`` gives the secret, or None for an unknown key. The request must sign ``host``
    and every ``x-acs-*`` / ``content-type`` header it carries, and its ``x-acs-content-sha256`` must be the
    hash of the body. The signature comparison is constant-time.
    """
    headers = {name.lower(): value for name, value in parts.headers.items()}
    match = _AUTHORIZATION.match(headers.get("authorization", "").strip())
    if not match:
        raise SignatureError("IncompleteSignature", "The request signature does not conform to Aliyun standards.")
    key_id, signed = match["key_id"], match["signed"].split(";")
    unsigned = [name for name in signed_header_names(headers) if name not in signed]
    not_sent = [name for name in signed if name not in headers]
    if unsigned or not_sent or "host" not in signed:
        raise SignatureError("IncompleteSignature", "The request signature does not conform to Aliyun standards "
                                                    f"(unsigned headers: {unsigned}, signed but not sent: {not_sent}).")
    secret = secret_lookup(key_id)
    if secret is None:
        raise SignatureError("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    if headers.get("x-acs-content-sha256") != hashed_payload(parts.body):
        raise SignatureError("SignatureDoesNotMatch", "x-acs-content-sha256 does not match the request body.")
    to_sign = string_to_sign(canonical_request(RequestParts(parts.method, parts.path, parts.query, headers,
                                                            parts.body), signed))
    if not hmac.compare_digest(signature(secret, to_sign), match["sig"]):
        raise SignatureError("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                                                      f"server string to sign is:{to_sign}")
    return key_id
