"""`make parity`: render a sample of PIs and contratos through both PDF paths and compare them.

Legacy path: core-api's in-process renderer, `GET {core}/api/v1/{pis,contratos}/{id}/pdf`.
New path:    pdf-service,                   `GET {pdf}/api/v1/{pis,contratos}/{id}/pdf`.
Both are called directly (not through the gateway, whose split would pick one) with the same bearer
token. For each document the contract must match (status, Content-Type, Content-Disposition), then
the page count and the text pypdf extracts from every page, after masking what may legitimately
differ (`--ignore` patterns; by default date-time stamps such as "gerado em 01/02/2026 10:31").
Every mismatch is printed; the exit status is 1 when there is any, 2 when nothing could be compared.

Credentials: PARITY_TOKEN, or PARITY_EMAIL + PARITY_PASSWORD (logged in through core-api).
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

KINDS = ("pis", "contratos")
#: headers of the PDF contract that must be byte-identical on both paths
CONTRACT_HEADERS = ("content-type", "content-disposition")
#: text that may differ between two renderings of the same document
DEFAULT_IGNORE = (r"\b\d{2}/\d{2}/\d{4}[ T,]+\d{2}:\d{2}(?::\d{2})?\b",)


@dataclass
class Rendering:
    """One answer of one path: what the comparison needs."""

    status: int
    headers: dict[str, str]
    pages: list[str] = field(default_factory=list)
    error: str | None = None  # the PDF could not be read

    @classmethod
    def from_response(cls, status: int, headers: dict[str, str], body: bytes) -> Rendering:
        headers = {k.lower(): v for k, v in headers.items() if k.lower() in CONTRACT_HEADERS}
        if status != 200:
            return cls(status, headers)
        try:
            return cls(status, headers, extract_pages(body))
        except Exception as exc:  # noqa: BLE001 - any unreadable PDF is a finding, not a crash
            return cls(status, headers, error=f"unreadable PDF: {exc}")


@dataclass
class Mismatch:
    document: str  # e.g. "pis/65a…"
    aspect: str  # status, header name, pages, text (page n), render
    legacy: str
    new: str
    diff: str = ""

    def __str__(self) -> str:
        head = f"{self.document}: {self.aspect} differs: legacy={self.legacy!r} new={self.new!r}"
        return head + (f"\n{self.diff}" if self.diff else "")


def extract_pages(pdf: bytes) -> list[str]:
    """The text of each page, as pypdf extracts it."""
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def normalise(text: str, ignore: Iterable[str] = DEFAULT_IGNORE) -> str:
    """Mask ignorable spans and collapse whitespace (layout engines break lines differently)."""
    for pattern in ignore:
        text = re.sub(pattern, "<ignored>", text)
    return " ".join(text.split())


def compare(
    document: str, legacy: Rendering, new: Rendering, ignore: Iterable[str] = DEFAULT_IGNORE
) -> list[Mismatch]:
    """Every way the two renderings of one document differ (empty list: parity)."""
    found: list[Mismatch] = []
    if legacy.status != new.status:
        found.append(Mismatch(document, "status", str(legacy.status), str(new.status)))
    if legacy.status != 200 or new.status != 200:
        # the same error on both sides is contract parity, but nothing was rendered: say so
        if legacy.status == new.status:
            found.append(Mismatch(document, "render", f"HTTP {legacy.status}", f"HTTP {new.status}"))
        return found
    for header in CONTRACT_HEADERS:
        a, b = legacy.headers.get(header, ""), new.headers.get(header, "")
        if a != b:
            found.append(Mismatch(document, header, a, b))
    if legacy.error or new.error:
        found.append(Mismatch(document, "render", legacy.error or "ok", new.error or "ok"))
        return found
    if len(legacy.pages) != len(new.pages):
        found.append(Mismatch(document, "pages", str(len(legacy.pages)), str(len(new.pages))))
    for number, (a, b) in enumerate(zip(legacy.pages, new.pages, strict=False), start=1):
        na, nb = normalise(a, ignore), normalise(b, ignore)
        if na != nb:
            diff = "\n".join(
                difflib.unified_diff(na.split(" "), nb.split(" "), "legacy", "new", lineterm="", n=3)
            )
            found.append(Mismatch(document, f"text (page {number})", na[:80], nb[:80], diff[:2000]))
    return found


def login(core: str, email: str, password: str) -> str:
    r = httpx.post(f"{core}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)
    if r.status_code != 200:
        raise SystemExit(
            f"parity: login as {email} at {core} failed with HTTP {r.status_code}: {r.text[:200]}"
        )
    return r.json()["accessToken"]


def sample_ids(client: httpx.Client, core: str, kind: str, size: int) -> list[str]:
    """The first `size` ids of a list route (`{"items": [...]}` per the API contract)."""
    r = client.get(f"{core}/api/v1/{kind}", params={"pageSize": size, "page": 1})
    if r.status_code != 200:
        raise SystemExit(f"parity: listing {kind} at {core} failed with HTTP {r.status_code}: {r.text[:200]}")
    return [item["id"] for item in r.json()["items"]][:size]


def fetch(client: httpx.Client, base: str, kind: str, doc_id: str) -> Rendering:
    r = client.get(f"{base}/api/v1/{kind}/{doc_id}/pdf")
    return Rendering.from_response(r.status_code, dict(r.headers), r.content)


def run(
    core: str,
    pdf: str,
    token: str,
    size: int,
    ignore: list[str],
    out=sys.stdout,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Compare a sample of each kind; 0 parity, 1 mismatches, 2 nothing compared."""
    compared, mismatches = 0, []
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "parity-check"}
    with httpx.Client(headers=headers, timeout=60, transport=transport) as client:
        for kind in KINDS:
            for doc_id in sample_ids(client, core, kind, size):
                document = f"{kind}/{doc_id}"
                found = compare(
                    document, fetch(client, core, kind, doc_id), fetch(client, pdf, kind, doc_id), ignore
                )
                compared += 1
                mismatches += found
                print(f"{'MISMATCH' if found else 'ok':8s} {document}", file=out)
    for m in mismatches:
        print(m, file=out)
    print(f"parity: {compared} documents compared, {len(mismatches)} mismatches", file=out)
    if compared == 0:
        print("parity: nothing to compare (no PIs or contratos for this login)", file=out)
        return 2
    return 1 if mismatches else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="make parity", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--core-url",
        default=os.environ.get("CORE_API_URL", f"http://127.0.0.1:{os.environ.get('CORE_API_PORT', '4000')}"),
    )
    p.add_argument(
        "--pdf-url",
        default=os.environ.get(
            "PDF_SERVICE_URL", f"http://127.0.0.1:{os.environ.get('PDF_SERVICE_PORT', '4100')}"
        ),
    )
    p.add_argument(
        "--token",
        default=os.environ.get("PARITY_TOKEN"),
        help="bearer token (or PARITY_EMAIL/PARITY_PASSWORD)",
    )
    p.add_argument("--email", default=os.environ.get("PARITY_EMAIL"))
    p.add_argument("--password", default=os.environ.get("PARITY_PASSWORD"))
    p.add_argument("--sample", type=int, default=20, help="documents of each kind (default %(default)s)")
    p.add_argument(
        "--ignore", action="append", default=None, help="regex of text allowed to differ (repeatable)"
    )
    args = p.parse_args(argv)
    if not 1 <= args.sample <= 100:
        p.error("--sample must be from 1 to 100 (the API's page size bound)")
    token = args.token
    if not token:
        if not (args.email and args.password):
            p.error(
                "give PARITY_TOKEN, or PARITY_EMAIL and PARITY_PASSWORD (the demo login `make up` prints)"
            )
        token = login(args.core_url, args.email, args.password)
    try:
        return run(args.core_url, args.pdf_url, token, args.sample, args.ignore or list(DEFAULT_IGNORE))
    except httpx.HTTPError as exc:
        print(f"parity: {exc.__class__.__name__}: {exc} (is the stack up? `make up`)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
