"""A values file's top-level registry key: the registry of images that name none.

Many charts keep the registry out of their image maps and compose it in the
template: ``{{ .Values.containerRegistry }}/{{ .Values.operator.image.name
}}:{{ .Values.operator.image.tag }}``. Read as written, such an image has no
registry, and Docker's rule makes it a Docker Hub image: the gate would
judge ``docker.io/jetstack/cert-manager-controller``, another image than
the ``quay.io`` one the chart pulls. So a values file whose top level holds
one of :data:`REGISTRY_KEYS` as a string gives image maps without a registry
of their own (no ``registry`` key, no host in ``repository``/``name``) that
registry. It does not apply

* where ``global.imageRegistry`` (or ``global.image.registry``) is set:
  that one replaces every image's registry, as the Bitnami common chart does;
* to flat image strings (``image: busybox:1.36``), which charts render as
  they are.

A guess that could be wrong is said, never made quietly: a value that is
not a registry host (``registry: internal``, a ``${VAR}``), or several
top-level keys naming different registries, is an input-warning, and the
images are checked as written (under Docker Hub) until the file says one
registry.
"""

from __future__ import annotations

from checker.artifacts.imagescan import global_registry
from checker.images import has_variable
from checker.model import Origin
from checker.readers.notes import Notes
from checker.yamldocs import YMap

#: Top-level keys that name the registry of a chart's images, in the order
#: they are reported when they disagree.
REGISTRY_KEYS = ("containerRegistry", "imageRegistry", "registry")


def _names_host(value: str) -> bool:
    """Docker's rule for a registry: the first segment has a dot, a port or is localhost."""
    first = value.split("/", 1)[0]
    return "." in first or ":" in first or first == "localhost"


def default_registry(root: YMap, notes: Notes) -> str | None:
    """The registry a values tree's top-level key gives its images, or None.

    None, with a note, when the key's value is not a registry host or the
    keys disagree; None, quietly, when there is no such key, it is empty,
    or ``global.imageRegistry`` applies instead.
    """
    if global_registry(root) is not None:
        return None
    found: list[tuple[str, str, Origin]] = []
    for key in REGISTRY_KEYS:
        value = root.get(key)  # a string: `registry: true` or a mapping is another setting
        text = value.strip() if isinstance(value, str) else ""
        if text:
            found.append((key, text, Origin(root.source_of(key), f"line {root.key_line(key)}")))
    if not found:
        return None
    usable = True
    for key, text, origin in found:
        if has_variable(text) or not _names_host(text):
            notes.at(
                origin,
                f"top-level `{key}: {text}` may be the registry of this chart's images, but "
                "it does not name a registry host (a dot, a port or localhost); images "
                "without a registry of their own are checked under docker.io, which may not "
                "be what the chart pulls: give them a `registry`, or the host here",
            )
            usable = False
    registries = {text.rstrip("/") for _, text, _ in found}
    if usable and len(registries) > 1:
        named = ", ".join(f"{key} {text!r} ({origin.location})" for key, text, origin in found)
        notes.at(
            found[0][2],
            f"top-level registry keys disagree ({named}); which one the templates use "
            "cannot be told from values, so images without a registry of their own are "
            "checked under docker.io: give each image its `registry`",
        )
        usable = False
    return found[0][1].rstrip("/") if usable else None
