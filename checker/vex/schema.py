"""The register's YAML schema: exceptions as reviewed records with an owner, a reason and an end.

Every ``*.yaml`` (and ``*.yml``) file in the register folder (``vex/``) is
read; together they form one register. A file is a mapping::

    version: 1                  # the only register format this gate reads
    entries:                    # a block list; `vex add` appends to its end
      - id: LIC-0001            # unique across every file of the register
        kind: license           # license | vulnerability
        ...

Keys every entry has (all required):

``id``
    letters, digits, ``.``, ``_`` and ``-`` (``vex add`` generates
    ``LIC-NNNN`` and ``VULN-NNNN``); unique across the register.
``kind``
    ``license`` or ``vulnerability``.
``approver``
    who accepted the exception (a name or handle).
``reference``
    ``ADR-NNNN``, which must resolve to ``adr/NNNN-*.md``, or an
    ``https://`` URL of the issue where the exception was decided.
``created``, ``expires``
    dates written ``YYYY-MM-DD``. ``created`` may not be in the future nor
    after ``expires``. An entry is current up to and including its
    ``expires`` day and expired from the day after.

``kind: license`` -- a license or dependency exception, which OpenVEX cannot
express. It names one component and the finding it waives:

``component``
    a purl that must parse (packageurl-python), without globs:
    ``pkg:npm/fuzzball`` (every version), ``pkg:npm/fuzzball@1.4.0`` (that
    version exactly). Qualifiers in it must be present, with the same
    values, on the component's purl (``?arch=amd64``).
``versions``
    optional, with ``component`` only: a range such as ``>=1.4,<2`` (the
    decision table's syntax); a component whose version cannot be ordered
    never matches a range.
``image``
    instead of ``component``: ``REPOSITORY@sha256:DIGEST`` (normalized like
    every image reference, so ``bitnami/postgresql@sha256:...`` is
    ``docker.io/bitnami/postgresql@sha256:...``). A digest is required: a
    tag can be moved to other bytes after the review.
``license``
    what is waived: an SPDX expression (``AGPL-3.0-only``,
    ``GPL-2.0-only OR MIT``; deprecated ids such as ``GPL-2.0`` are read as
    their current id) that must equal, as an expression, the license the
    finding states; or a rule id (``rejected-component``, ``bundled-byo``,
    ``unapproved-stack-component``, ``denied-license``, ``unknown-license``,
    ``ambiguous-license``, ``license-mismatch``, ``unpinned-image``) that
    waives that rule's findings for the component whatever the license.
``reason``
    why the exception is acceptable.

``kind: vulnerability`` -- an OpenVEX statement with its governance:

``vulnerability``
    the id (``CVE-2024-3094``, ``GHSA-...``, ``GO-...``); ``aliases`` an
    optional list of other ids for the same vulnerability.
``products``
    a non-empty list; each item a purl (``pkg:deb/debian/tar``: every
    version; ``pkg:deb/debian/tar@1.34``: that version), or a mapping
    ``{purl: PURL, versions: RANGE}``.
``status``
    ``not_affected``, ``affected``, ``fixed`` or ``under_investigation``.
``justification``
    one of ``component_not_present``, ``vulnerable_code_not_present``,
    ``vulnerable_code_not_in_execute_path``,
    ``vulnerable_code_cannot_be_controlled_by_adversary``,
    ``inline_mitigations_already_exist``.
``impact_statement``, ``action_statement``
    free text. ``not_affected`` needs a justification or an impact
    statement; ``affected`` needs an action statement (OpenVEX). Like
    go-vex and vexctl, justification and impact statement are refused on
    other statuses, and the action statement on any status but ``affected``.
``cvss``
    optional base score, 0 to 10.
``patch_sla``
    optional ``YYYY-MM-DD`` by which a fix is due (a warning once passed
    while the status is still ``affected`` or ``under_investigation``).
``response``
    optional CycloneDX responses (``can_not_fix``, ``will_not_fix``,
    ``update``, ``rollback``, ``workaround_available``), used by the
    CycloneDX export only.

Validation collects every problem with its file and line before anything is
reported: unknown keys, wrong types, dates not written ``YYYY-MM-DD``, purls
that do not parse, the OpenVEX rules and references that do not resolve are
found here, entry by entry; what is wrong *across* entries (duplicate ids,
overlapping current entries, expiry) is judged by :mod:`checker.vex.checks`
once every file is read.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, NamedTuple

from checker.errors import Problem
from checker.vex.fields import (
    LICENSE_KEYS,
    FieldReader,
    Governance,
    check_license,
    parse_subject_image,
    parse_subject_purl,
    read_governance,
)
from checker.vex.model import SPDX_NORMALIZER, Entry, LicenseException, Subject
from checker.vex.statement import read_vulnerability
from checker.vex.vocabulary import EntryKind
from checker.yamlio import Key, Located, describe

REGISTER_VERSION = 1


class Parsed(NamedTuple):
    """The entries of one register file and every problem in it."""

    entries: list[Entry]
    problems: list[Problem]


def _subject(c: FieldReader, entry: dict[str, Any], key: Key) -> Subject | None:
    """A license exception's component (a purl, maybe with versions) or image."""
    component = c.string(entry, "component", key, required=False)
    image = c.string(entry, "image", key, required=False)
    if component is not None and image is not None:
        c.add(key, "give 'component' (a purl) or 'image' (REPOSITORY@sha256:DIGEST), not both")
    elif component is None and image is None:
        if entry.get("component") is None and entry.get("image") is None:
            c.add(key, "missing 'component' (a purl) or 'image' (REPOSITORY@sha256:DIGEST)")
    elif component is not None:
        versions = c.versions(entry, key)
        try:
            return parse_subject_purl(component, versions)
        except ValueError as exc:
            c.add((*key, "component"), str(exc))
    elif image is not None:
        if entry.get("versions") is not None:
            c.add((*key, "versions"), "'versions' goes with 'component'; an image is its digest")
        try:
            return parse_subject_image(image)
        except ValueError as exc:
            c.add((*key, "image"), str(exc))
    return None


def _license_entry(
    c: FieldReader, entry: dict[str, Any], key: Key, common: Governance | None
) -> LicenseException | None:
    c.unknown_keys(entry, LICENSE_KEYS, key)
    subject = _subject(c, entry, key)
    license_text = c.string(entry, "license", key, required=True)
    checked = None
    if license_text is not None:
        checked = check_license(license_text, SPDX_NORMALIZER)
        if checked.problem:
            c.add((*key, "license"), checked.problem)
            license_text = None
    reason = c.string(entry, "reason", key, required=True)
    if common is None or subject is None or license_text is None or reason is None:
        return None
    assert checked is not None
    return LicenseException(
        **common,
        subject=subject,
        license=license_text,
        rule=checked.rule,
        expression=checked.expression,
        reason=" ".join(reason.split()),
    )


def parse_register_file(
    doc: Located, adr_ids: Collection[str] | None, today: date, adr_dir: str = "adr"
) -> Parsed:
    """The entries of one loaded register file and every problem in it."""
    c = FieldReader(doc)
    data = doc.data
    if data is None:
        return Parsed([], [])  # an empty file is an empty register
    if not isinstance(data, dict):
        c.add((), f"a register file must map 'version' and 'entries', not {describe(data)}")
        return Parsed([], c.problems)
    c.unknown_keys(data, ("version", "entries"), ())
    if data.get("version") != REGISTER_VERSION:
        c.add(("version",), f"'version' must be {REGISTER_VERSION} (the only register format)")
    raw = data.get("entries")
    if "entries" not in data:
        c.add((), "missing key 'entries' (the list of exceptions; may be empty)")
    if raw is not None and not isinstance(raw, list):
        c.add(("entries",), f"'entries' must be a list, found {describe(raw)}")
        raw = None
    entries: list[Entry] = []
    for i, item in enumerate(raw or []):
        key: Key = ("entries", i)
        mapping = c.mapping(item, key, "an entry")
        if mapping is None:
            continue
        written = c.string(mapping, "kind", key, required=True)
        common = read_governance(c, mapping, key, adr_ids, today, adr_dir)
        kind = c.member(EntryKind, written, (*key, "kind"), "kind") if written else None
        parsed: Entry | None = None
        if kind is EntryKind.LICENSE:
            parsed = _license_entry(c, mapping, key, common)
        elif kind is EntryKind.VULNERABILITY:
            parsed = read_vulnerability(c, mapping, key, common)
        if parsed is not None:
            entries.append(parsed)
    return Parsed(entries, c.problems)
