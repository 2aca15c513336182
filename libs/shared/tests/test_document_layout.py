"""Visual regression: each template rendered from fixed data (`complete_snapshot`) to PNG with
pdftoppm and compared with a committed golden image, so a layout break (a page that overflows, a
block that moves, a table that loses a column) fails the suite.

Regenerate the goldens after an intended layout change with
`UPDATE_GOLDENS=1 uv run pytest libs/shared/tests/test_document_layout.py` and look at them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from shared.documents.render import render_html, render_html_to_pdf
from shared.documents.samples import complete_snapshot

GOLDEN_DIR = Path(__file__).parent / "golden"
DPI = 40
#: a pixel "differs" when its grey level moves by more than this (anti-aliasing noise stays below)
PIXEL_THRESHOLD = 64
#: the share of differing pixels a page may have and still match
MAX_DIFF_RATIO = 0.002
CASES = {
    "pi-avista": ("pi", "avista"),
    "contrato-avista": ("contrato", "avista"),
    "contrato-parcelado": ("contrato", "parcelado"),
}


def rasterize(html: str, tmp_path: Path, name: str) -> list[Image.Image]:
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(render_html_to_pdf(html).pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", str(pdf), str(tmp_path / name)], check=True)
    return [Image.open(p).convert("L") for p in sorted(tmp_path.glob(f"{name}-*.png"))]


def diff_ratio(a: Image.Image, b: Image.Image) -> float:
    if a.size != b.size:
        return 1.0
    diff = ImageChops.difference(a, b).point(lambda v: 255 if v > PIXEL_THRESHOLD else 0)
    histogram = diff.histogram()
    return histogram[255] / (a.size[0] * a.size[1])


def goldens(name: str) -> list[Image.Image]:
    return [Image.open(p).convert("L") for p in sorted(GOLDEN_DIR.glob(f"{name}-*.png"))]


def mismatches(pages: list[Image.Image], expected: list[Image.Image]) -> list[str]:
    if len(pages) != len(expected):
        return [f"{len(pages)} pages, golden has {len(expected)}"]
    out = []
    for i, (page, gold) in enumerate(zip(pages, expected, strict=True), start=1):
        ratio = diff_ratio(page, gold)
        if ratio > MAX_DIFF_RATIO:
            out.append(f"page {i}: {ratio:.2%} of pixels differ (tolerance {MAX_DIFF_RATIO:.2%})")
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_document_matches_its_golden_image(name, tmp_path):
    kind, forma = CASES[name]
    pages = rasterize(render_html(kind, complete_snapshot(kind, forma=forma)), tmp_path, name)
    if os.environ.get("UPDATE_GOLDENS"):
        GOLDEN_DIR.mkdir(exist_ok=True)
        for old in GOLDEN_DIR.glob(f"{name}-*.png"):
            old.unlink()
        for i, page in enumerate(pages, start=1):
            page.save(GOLDEN_DIR / f"{name}-{i}.png", optimize=True)
    problems = mismatches(pages, goldens(name))
    assert not problems, f"{name} no longer looks like tests/golden/{name}-*.png: {problems}"


def test_the_comparison_catches_a_layout_break(tmp_path):
    """The tolerance is not so loose that a real change passes: bigger section titles must fail."""
    html = render_html("pi", complete_snapshot("pi"))
    broken = html.replace("</head>", "<style>h2 { font-size: 13pt; margin-top: 20pt; }</style></head>")
    problems = mismatches(rasterize(broken, tmp_path, "broken"), goldens("pi-avista"))
    assert problems
