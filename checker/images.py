"""Container image references, normalized the way a registry resolves them.

``postgres:17-alpine``, ``library/postgres:17-alpine`` and
``docker.io/library/postgres:17-alpine`` name the same image; the policy is
written against the normalized form so one row covers every spelling.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from checker.model import ImageRef

DEFAULT_REGISTRY = "docker.io"
_REGISTRY_ALIASES = {
    "index.docker.io": "docker.io",
    "registry-1.docker.io": "docker.io",
    "registry.hub.docker.com": "docker.io",
}
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")
_REPO_PART = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


def parse_image(text: str) -> ImageRef | None:
    """Parse an image reference; None when it is not one (e.g. a template)."""
    ref = text.strip()
    if not ref or any(c in ref for c in " \t\n${}"):
        return None
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
        if not _DIGEST.match(digest):
            return None
    tag = None
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        ref, tag = ref[:colon], ref[colon + 1 :]
        if not _TAG.match(tag):
            return None
    parts = ref.split("/")
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        registry = _REGISTRY_ALIASES.get(first.lower(), first.lower())
        path = parts[1:]
    else:
        registry = DEFAULT_REGISTRY
        path = parts
    if registry == DEFAULT_REGISTRY and len(path) == 1:
        path = ["library", *path]
    if not path or not all(_REPO_PART.match(p) for p in path):
        return None
    return ImageRef(registry, "/".join(path), tag, digest)


def image_from_purl(
    purl_type: str,
    namespace: str | None,
    name: str,
    version: str | None,
    qualifiers: dict[str, str],
) -> ImageRef | None:
    """The image an ``oci`` or ``docker`` purl points at, if it says enough."""
    version = unquote(version) if version else None
    if purl_type == "oci":
        repository_url = qualifiers.get("repository_url")
        base = repository_url if repository_url else f"{DEFAULT_REGISTRY}/library/{name}"
        ref = parse_image(base)
        if ref is None:
            return None
        digest = version if version and ":" in version else None
        return ImageRef(ref.registry, ref.repository, qualifiers.get("tag"), digest)
    if purl_type == "docker":
        registry = qualifiers.get("repository_url", DEFAULT_REGISTRY)
        path = f"{namespace}/{name}" if namespace else name
        ref = parse_image(f"{registry}/{path}" if "." in registry else path)
        if ref is None:
            return None
        if version and ":" in version and version.split(":", 1)[0] in ("sha256", "sha512"):
            return ImageRef(ref.registry, ref.repository, None, version)
        return ImageRef(ref.registry, ref.repository, version, None)
    return None
