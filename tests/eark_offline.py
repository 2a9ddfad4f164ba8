"""eark-validator without the web: its four CSIP vocabularies served from tests/vectors/eark-csip.

`eark_validator.ipxml.schematron` reads four vocabularies with `urllib.request.urlopen`
when it is imported. This installs an opener that answers exactly those four
addresses from the copies kept beside the tests (DILCISBoard/E-ARK-CSIP v2.1.0; see
the README there) and refuses every other address, so no test reaches the web.
"""

from __future__ import annotations

import email.message
import io
import urllib.request
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit
from urllib.response import addinfourl

VOCABULARIES = Path(__file__).parent / "vectors" / "eark-csip"
PREFIX = "https://earkcsip.dilcis.eu/schema/"
SERVED = frozenset(
    f"CSIPVocabulary{name}.xml"
    for name in ("ContentCategory", "ContentInformationType", "OAISPackageType", "Status")
)


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _loopback(request: urllib.request.Request) -> bool:
    """A request to this machine: the tests' own servers (a witness asks `biv serve`)."""
    return urlsplit(request.full_url).hostname in LOOPBACK


class LocalVocabularies(urllib.request.BaseHandler):
    """Answers the four vocabulary addresses from the local copies; refuses any other address
    but loopback, which it leaves to the standard handlers (installed for the whole session,
    it must not cut the other tests off their own servers)."""

    handler_order = 100  # before the standard handlers, which would go to the web

    def https_open(self, request: urllib.request.Request) -> addinfourl | None:
        if _loopback(request):
            return None  # the next handler opens it
        url = request.full_url
        name = url.removeprefix(PREFIX)
        if not url.startswith(PREFIX) or name not in SERVED:
            raise URLError(f"no web in the tests: {url}")
        body = (VOCABULARIES / name).read_bytes()
        headers = email.message.Message()
        headers["Content-Type"] = "application/xml"
        response = addinfourl(io.BytesIO(body), headers, url, 200)
        response.msg = "OK"  # type: ignore[attr-defined]
        return response

    def http_open(self, request: urllib.request.Request) -> Any:
        if _loopback(request):
            return None  # the next handler opens it
        raise URLError(f"no web in the tests: {request.full_url}")


def install() -> None:
    """Serves the vocabularies to any later `urlopen`; call before importing eark_validator."""
    urllib.request.install_opener(urllib.request.build_opener(LocalVocabularies()))
