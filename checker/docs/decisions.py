"""The licensing decision table and the license policy, rendered from ``policy/``.

The upstream operations page kept a hand-copied licensing table that went
wrong (psycopg's license, CockroachDB's terms). Here the table is the gate's
own data: :func:`checker.policy.load_policy` validates it exactly as a gate
run would, and the page shows what was loaded, row for row. A policy that
does not load renders as a failure notice and its problems are returned, so a
strict build fails instead of publishing a stale or partial table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.docs.mdtables import code, escape, table
from checker.errors import CheckerError, Problem
from checker.policy import Policy, load_policy
from checker.yamlio import read_yaml_file

LinkFor = Callable[[str], str | None]

DECISION_LABELS = {
    "approved": "approved",
    "approved-byo": "approved as bring-your-own",
    "rejected": "rejected",
}


@dataclass(slots=True)
class LoadedPolicy:
    """The validated policy plus the raw license file (for lists the model folds)."""

    policy: Policy | None
    licenses_raw: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def load(policy_dir: Path, adr_dir: Path) -> LoadedPolicy:
    """Load the policy as the gate does; never raises, problems are returned."""
    try:
        policy = load_policy(policy_dir, adr_dir)
    except CheckerError as exc:
        problems = exc.problems or [Problem(str(policy_dir), "", exc.message)]
        return LoadedPolicy(None, {}, problems)
    # The loader folds case and merges names; the page shows them as written.
    doc, _ = read_yaml_file(policy_dir / "licenses.yaml")
    raw = doc.data if doc is not None else None
    return LoadedPolicy(policy, raw if isinstance(raw, dict) else {})


def _failure(what: str, problems: list[Problem]) -> str:
    lines = [f'!!! failure "{what} could not be rendered"', ""]
    lines += [f"    - {escape(str(p))}" for p in problems] or ["    - unknown problem"]
    return "\n".join(lines) + "\n"


def _adr_cell(adr: str, link_for: LinkFor) -> str:
    target = link_for(adr)
    return f"[{adr}]({target})" if target else adr


def render_decision_table(loaded: LoadedPolicy, link_for: LinkFor) -> str:
    """One row per ``components`` entry, in the order the gate tries them."""
    if loaded.policy is None:
        return _failure("The decision table", loaded.problems)
    rows = [
        [
            f"{escape(d.name)}<br>{code(d.id)}",
            DECISION_LABELS.get(d.decision, d.decision)
            + ("<br>digest pin required" if d.require_digest else ""),
            code(d.license) if d.license else "not decided by license",
            escape(d.rationale),
            _adr_cell(d.adr, link_for),
        ]
        for d in loaded.policy.decisions
    ]
    return table(["Component", "Decision", "License", "Rationale", "ADR"], rows)


def _patterns(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(code(str(v)) for v in items)


def render_license_policy(loaded: LoadedPolicy) -> str:
    """Denied rules, allowed ``WITH`` pairs, allowed ids, severities, normalization."""
    if loaded.policy is None:
        return _failure("The license policy", loaded.problems)
    raw = loaded.licenses_raw
    rules = loaded.policy.licenses
    out: list[str] = ["### Denied licenses", ""]
    out.append(
        table(
            ["Licenses", "Allowed anyway for", "Why"],
            [
                [
                    _patterns(list(rule.patterns)),
                    ", ".join(sorted(rule.except_kinds)) or "nothing",
                    escape(rule.reason),
                ]
                for rule in rules.rules.denied
            ],
        )
    )
    out += ["", "### Allowed `WITH` exceptions", ""]
    out.append(
        table(
            ["Expression", "Why"],
            [[code(str(a["expression"])), escape(str(a["reason"]))] for a in raw["allowed_with"]],
        )
    )
    allowed = [str(a) for a in raw.get("allowed", [])]
    out += ["", "### Allowed licenses", ""]
    out.append(f"{len(allowed)} SPDX ids: " + ", ".join(code(a) for a in allowed) + "\n")
    out += ["", "### Severities", ""]
    severity_rows = [
        [f"unknown license, {kind}", sev.value] for kind, sev in sorted(rules.unknown.items())
    ]
    severity_rows.append(["ambiguous license name", rules.ambiguous.value])
    severity_rows.append(["license mismatch with the decision table", rules.license_mismatch.value])
    severity_rows.append(["unpinned approved image", loaded.policy.unpinned_image.value])
    pinned_rows = [d.id for d in loaded.policy.decisions if d.require_digest]
    if pinned_rows:
        severity_rows.append(
            [
                "unpinned image of a row with `require_digest: true` ("
                + ", ".join(code(r) for r in pinned_rows)
                + ")",
                "error",
            ]
        )
    out.append(table(["Case", "Severity"], severity_rows))
    out += ["", "### Normalization table", ""]
    out.append(
        table(
            ["Names found in the wild", "SPDX expression", "Ambiguous"],
            [
                [
                    "<br>".join(code(str(n)) for n in entry["names"]),
                    code(str(entry["spdx"])),
                    "yes: a human confirms" if entry.get("ambiguous") else "",
                ]
                for entry in raw.get("normalize", [])
            ],
        )
    )
    return "\n".join(out)
