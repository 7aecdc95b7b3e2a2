"""Shared paths and small builders for the VEX register tests (imported, not collected)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from checker.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "vex"
POLICY = ROOT / "policy"
ADR = ROOT / "adr"
CORPUS = ROOT.parent / "shared" / "corpus"
SCHEMAS = ROOT.parent / "shared" / "schemas"
#: The day the tests judge expiry on (passed as --today / today=).
TODAY = date(2026, 6, 1)
TODAY_ARG = ["--today", TODAY.isoformat()]

JUICE_SHOP = "cyclonedx/bom-examples_juice-shop_via-npm_bare_bom.1.4.json"
#: Components of the juice-shop SBOM without any license (unknown-license errors).
JUICE_SHOP_UNLICENSED = (
    "pkg:npm/buffers@0.1.1",
    "pkg:npm/domhandler@2.1.0",
    "pkg:npm/domutils@1.1.6",
    "pkg:npm/dynamic-dedupe@0.3.0",
    "pkg:npm/exif@0.6.0",
    "pkg:npm/formatio@1.1.1",
    "pkg:npm/png-js@1.0.0",
    "pkg:npm/samsam@1.1.2",
    "pkg:npm/thirty-two@1.0.2",
)


def corpus(relative: str) -> Path:
    path = CORPUS / relative
    if not path.is_file():
        pytest.skip(f"shared corpus file {relative} is absent (expected at {CORPUS})")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def license_entry(
    ident: str,
    component: str,
    license_text: str,
    *,
    created: str = "2026-01-10",
    expires: str = "2027-01-10",
    reference: str = "ADR-0007",
    versions: str | None = None,
    key: str = "component",
) -> str:
    """One license entry as register YAML text."""
    lines = [
        f"  - id: {ident}",
        "    kind: license",
        f"    {key}: {component}",
    ]
    if versions is not None:
        lines.append(f'    versions: "{versions}"')
    lines += [
        f"    license: {license_text}",
        "    reason: Reviewed and accepted for the test.",
        "    approver: Jane Doe",
        f"    reference: {reference}",
        f"    created: {created}",
        f"    expires: {expires}",
    ]
    return "\n".join(lines) + "\n"


def vulnerability_entry(
    ident: str,
    vulnerability: str,
    products: list[str],
    *,
    status: str = "not_affected",
    extra: str = "    justification: vulnerable_code_not_present\n",
    created: str = "2026-01-10",
    expires: str = "2027-01-10",
) -> str:
    items = "".join(f"      - {p}\n" for p in products)
    return (
        f"  - id: {ident}\n"
        "    kind: vulnerability\n"
        f"    vulnerability: {vulnerability}\n"
        f"    products:\n{items}"
        f"    status: {status}\n"
        f"{extra}"
        "    approver: Jane Doe\n"
        "    reference: ADR-0006\n"
        f"    created: {created}\n"
        f"    expires: {expires}\n"
    )


def write_register(folder: Path, *entries: str, name: str = "register.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("version: 1\nentries:\n" + "".join(entries), encoding="utf-8")
    return folder


def repository(tmp_path: Path) -> Path:
    """A copy of what a reviewer has: policy/, adr/ and the shipped vex/register.yaml."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copytree(POLICY, repo / "policy")
    shutil.copytree(ADR, repo / "adr")
    shutil.copytree(ROOT / "vex", repo / "vex")
    return repo
