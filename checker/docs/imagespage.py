"""The image knowledge base (``policy/images.yaml``), rendered from the loaded policy.

A hand-kept table of "which MongoDB release is SSPL" would drift from the
file the gate reads; this page shows what :func:`checker.policy.load_policy`
loaded, span for span, with each span's source. A policy that does not load
renders as the same failure notice the decision table uses, so a strict
build fails.
"""

from __future__ import annotations

from checker.docs.decisions import LoadedPolicy, _failure
from checker.docs.mdtables import code, escape, table


def render_images(loaded: LoadedPolicy) -> str:
    """One row per license span, projects in file order, oldest span first."""
    if loaded.policy is None:
        return _failure("The image knowledge base", loaded.problems)
    rows: list[list[str]] = []
    for project in loaded.policy.knowledge.projects:
        images = "<br>".join(code(i) for i in project.images)
        for span in project.licenses:
            rows.append(
                [
                    escape(project.project),
                    images,
                    code(span.versions.text),
                    code(span.license),
                    escape(span.since or "not recorded"),
                    f"<{span.source}>",
                ]
            )
    if not rows:
        return "The policy has no `images.yaml`: no image is identified by it.\n"
    return table(["Project", "Images", "Versions", "License", "Since", "Source"], rows)
