"""Container image references, normalized the way a registry resolves them.

This is the one image-reference parser of the checker: the SBOM readers
(CycloneDX, SPDX), the deployment-artifact readers (Helm, Kubernetes,
Dockerfile, compose) and the policy matcher all go through it, so the same
image gets the same identity whichever file named it.

``postgres:17-alpine``, ``library/postgres:17-alpine`` and
``docker.io/library/postgres:17-alpine`` name the same image; the policy is
written against the normalized form so one row covers every spelling:

* the registry is the first path segment only if it looks like a host (a dot,
  a port, ``localhost`` or upper case, Docker's rule); otherwise Docker Hub;
* Docker Hub's other host names (``index.docker.io``, ``registry-1.docker.io``,
  ``registry.hub.docker.com``, ``hub.docker.com``) become ``docker.io``, and a
  one-segment Hub name gets ``library/``;
* registry, repository, tag and digest are kept apart, and the namespace is
  never dropped (``bitnamilegacy/postgresql`` stays itself; the policy globs
  decide that it is the same publisher as ``bitnami/postgresql``);
* a reference that still holds a variable (``${TAG}``, ``$TAG``,
  ``{{ .Values.image.tag }}``) is not an image: it parses to None, and the
  reader that found it says so in a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from packageurl import PackageURL

from checker.model import Component, ImageRef, Kind, Origin

DEFAULT_REGISTRY = "docker.io"

#: Purl types that name container images.
IMAGE_PURL_TYPES = frozenset({"oci", "docker"})

#: Host names that all mean Docker Hub.
DOCKER_HUB_HOSTS = frozenset(
    {
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
        "registry.hub.docker.com",
        "hub.docker.com",
    }
)

_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_REGISTRY = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::[0-9]+)?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
#: OCI digest: ``algorithm:hex``; the algorithm grammar is the OCI one.
_DIGEST = re.compile(r"[A-Za-z0-9]+(?:[+._-][A-Za-z0-9]+)*:[0-9a-fA-F]{32,}")
#: What marks a reference as unresolved: shell/compose variables, Go templates.
_VARIABLE = re.compile(r"\$\{|\$[A-Za-z_]|\{\{|\}\}")
_MAX_REFERENCE = 512


@dataclass(frozen=True, slots=True)
class ReferenceParts:
    """A reference split into its parts before any of them is validated.

    ``registry`` is None when the reference names no registry host. ``tag`` and
    ``digest`` are None when absent *or* malformed; ``bad_tag`` and
    ``bad_digest`` say which. Lenient callers (a CycloneDX component name that
    merely fills gaps of its purl) use the good parts; :func:`parse_image`
    refuses any bad part.
    """

    registry: str | None
    repository: str
    tag: str | None
    digest: str | None
    bad_tag: bool = False
    bad_digest: bool = False


def has_variable(text: str) -> bool:
    """Whether ``text`` holds a ``${VAR}``, ``$VAR`` or ``{{ template }}`` reference."""
    return _VARIABLE.search(text) is not None


def _is_host(segment: str) -> bool:
    return "." in segment or ":" in segment or segment == "localhost" or segment != segment.lower()


def split_reference(text: str) -> ReferenceParts | None:
    """Split ``[registry/]repository[:tag][@digest]`` without judging the parts.

    Returns None for text that cannot be a reference at all: empty, with
    whitespace, or holding an unresolved variable.
    """
    ref = text.strip()
    if not ref or len(ref) > _MAX_REFERENCE or any(c.isspace() for c in ref):
        return None
    if "$" in ref or "{" in ref or "}" in ref:
        return None
    rest, at, digest_text = ref.partition("@")
    digest: str | None = None
    bad_digest = False
    if at:
        if _DIGEST.fullmatch(digest_text):
            digest = digest_text
        else:
            bad_digest = True
    tag: str | None = None
    bad_tag = False
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        rest, tag_text = rest[:colon], rest[colon + 1 :]
        if _TAG.fullmatch(tag_text):
            tag = tag_text
        else:
            bad_tag = True
    first, slash, remainder = rest.partition("/")
    if slash and _is_host(first):
        return ReferenceParts(first, remainder, tag, digest, bad_tag, bad_digest)
    return ReferenceParts(None, rest, tag, digest, bad_tag, bad_digest)


def make_image(
    registry: str | None, repository: str, tag: str | None = None, digest: str | None = None
) -> ImageRef | None:
    """Normalize and validate parts into an :class:`ImageRef`; None if invalid.

    A malformed tag or digest is dropped rather than failing the reference
    (callers that must be strict check them before).
    """
    given = (registry or DEFAULT_REGISTRY).strip()
    host = given.lower()
    if host in DOCKER_HUB_HOSTS:
        host = DEFAULT_REGISTRY
    if not _REGISTRY.fullmatch(host):
        return None
    if host != given and not any(c in host for c in ".:") and host != "localhost":
        # A one-label host is a registry only because of its upper case
        # (``Registry/app``): lower-cased, it would print as a Docker Hub
        # namespace (``registry/app``), a different image. Not a reference
        # the gate can name faithfully, so not one it accepts.
        return None
    path = repository.strip()
    if not path or not _REPOSITORY.fullmatch(path):
        return None
    if host == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    tag = tag if tag and _TAG.fullmatch(tag) else None
    digest = digest if digest and _DIGEST.fullmatch(digest) else None
    return ImageRef(host, path, tag, digest)


def parse_image(text: str) -> ImageRef | None:
    """Parse an image reference strictly; None when it is not one.

    Not one: empty text, whitespace, an unresolved variable or template, an
    invalid registry host, an upper-case or malformed repository, a malformed
    tag or digest.
    """
    parts = split_reference(text)
    if parts is None or parts.bad_tag or parts.bad_digest:
        return None
    return make_image(parts.registry, parts.repository, parts.tag, parts.digest)


def is_pinned(image: ImageRef) -> bool:
    """An image pinned by digest always resolves to the same bytes."""
    return image.digest is not None


def _strip_scheme(url: str) -> str:
    return url.strip().split("://", 1)[-1].strip("/")


def image_from_purl(
    purl_type: str,
    namespace: str | None,
    name: str,
    version: str | None,
    qualifiers: Mapping[str, str],
) -> ImageRef | None:
    """The image an ``oci`` or ``docker`` purl points at, if it says enough.

    ``pkg:oci/NAME@DIGEST?repository_url=HOST/PATH/NAME&tag=TAG`` and
    ``pkg:docker/NAMESPACE/NAME@TAG-or-DIGEST?repository_url=HOST``. A version
    with a colon is a digest, any other version a tag (unless a ``tag``
    qualifier gives one). A URL scheme in ``repository_url`` is ignored.
    """
    purl_type = purl_type.lower()
    if purl_type not in IMAGE_PURL_TYPES or not name:
        return None
    version = unquote(version) if version else None
    tag = qualifiers.get("tag") or None
    digest: str | None = None
    if version:
        if ":" in version:
            digest = version
        elif tag is None:
            tag = version
    repository_url = _strip_scheme(qualifiers.get("repository_url") or "")
    if purl_type == "oci":
        if not repository_url:
            base = name
        elif "/" not in repository_url and _is_host(repository_url):
            base = f"{repository_url}/{name}"  # only the registry host was given
        else:
            base = repository_url
    else:
        path = f"{namespace}/{name}" if namespace else name
        base = f"{repository_url}/{path}" if repository_url else path
    parts = split_reference(base)
    if parts is None:
        return None
    return make_image(parts.registry, parts.repository, tag or parts.tag, digest or parts.digest)


def _purl_image(purl: str) -> tuple[bool, ImageRef | None]:
    """(whether ``purl`` is a readable oci/docker purl, the image it names)."""
    try:
        parsed = PackageURL.from_string(purl)
    except Exception:  # a malformed purl only means no reference from it
        return False, None
    if str(parsed.type).lower() not in IMAGE_PURL_TYPES:
        return False, None
    qualifiers = parsed.qualifiers if isinstance(parsed.qualifiers, dict) else {}
    image = image_from_purl(
        str(parsed.type),
        parsed.namespace or None,
        str(parsed.name or ""),
        parsed.version or None,
        {str(k): str(v) for k, v in qualifiers.items()},
    )
    return True, image


def image_from_purl_text(purl: str) -> ImageRef | None:
    """:func:`image_from_purl` for a purl string; None if it names no image."""
    return _purl_image(purl)[1]


def image_from_component(name: str, version: str | None, purl: str | None) -> ImageRef | None:
    """Best-effort image of an SBOM component: its purl, then its name and version.

    The purl (``pkg:oci`` or ``pkg:docker``) is preferred because its parts are
    explicit; the name (``ghcr.io/org/app:1.2@sha256:...``) and the version
    fill the tag or digest the purl lacks. An image purl that names no valid
    image is not repaired from the name. None when nothing reads as an image
    reference (e.g. a scanner names a container after the tarball it scanned).
    """
    registry: str | None = None
    repository: str | None = None
    tag: str | None = None
    digest: str | None = None
    if purl:
        is_image_purl, from_purl = _purl_image(purl)
        if is_image_purl:
            if from_purl is None:
                return None
            registry, repository = from_purl.registry, from_purl.repository
            tag, digest = from_purl.tag, from_purl.digest
    parts = split_reference(name)
    if repository is None:
        if parts is None:
            return None
        registry, repository = parts.registry, parts.repository
    if parts is not None:
        tag = tag or parts.tag
        digest = digest or parts.digest
    if version and not tag and not digest:
        if ":" in version:
            digest = version
        else:
            tag = version
    return make_image(registry, repository, tag, digest)


def image_purl(image: ImageRef) -> str:
    """The ``pkg:oci`` purl of an image: what Trivy and Grype match VEX against.

    ``pkg:oci/NAME@DIGEST?repository_url=REGISTRY/REPOSITORY&tag=TAG``; the
    version is the digest, so an unpinned image has none.
    """
    qualifiers = {"repository_url": image.name}
    if image.tag:
        qualifiers["tag"] = image.tag
    last = image.repository.rsplit("/", 1)[-1]
    return str(PackageURL(type="oci", name=last, version=image.digest, qualifiers=qualifiers))


def image_component(
    image: ImageRef, origin: Origin, path: tuple[str, ...] = (), *, is_subject: bool = False
) -> Component:
    """The component an artifact's image reference stands for.

    Named by the normalized ``registry/repository`` (what the policy globs
    match), versioned by the tag (None when only a digest or nothing pins
    it), with the ``pkg:oci`` purl and the reference itself.
    """
    return Component(
        name=image.name,
        origin=origin,
        version=image.tag,
        purl=image_purl(image),
        kind=Kind.IMAGE,
        image=image,
        is_subject=is_subject,
        path=path,
    )


def unresolved_message(what: str, text: str) -> str:
    """The note for a reference that could not be read as an image."""
    shown = text if len(text) <= 200 else text[:200] + "..."
    if has_variable(text):
        return (
            f"{what} {shown!r} is not resolved (it uses a variable or template); "
            "its image cannot be checked: scan the rendered file, or pin it"
        )
    return f"{what} {shown!r} is not a valid image reference; not checked"


_INTERPOLATION = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+?])(?P<word>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(
    text: str, variables: Mapping[str, str | None], *, dollar_escape: bool = False
) -> tuple[str, list[str]]:
    """Substitute ``$VAR``, ``${VAR}`` and ``${VAR:-default}``-style references.

    ``variables`` maps names to values; None means declared without a value
    (``ARG VERSION``), which is unset like an undeclared name. Supports the
    operators Docker and Compose share: ``:-``/``-`` (default when unset or
    empty / unset), ``:+``/``+`` (alternative when set) and ``:?``/``?``
    (required). Returns the text and the names that stayed unresolved (their
    references are left in place, so :func:`parse_image` refuses the result).
    ``dollar_escape`` reads ``$$`` as a literal ``$`` (Compose).
    """
    unresolved: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        op = match["op"]
        word = match["word"] or ""
        value = variables.get(name)
        if op is None:
            if value is None:
                unresolved.append(name)
                return match[0]
            return value
        if op == ":-":
            return value if value else word
        if op == "-":
            return value if value is not None else word
        if op == ":+":
            return word if value else ""
        if op == "+":
            return word if value is not None else ""
        if value if op == ":?" else value is not None:
            return value or ""
        unresolved.append(name)
        return match[0]

    if dollar_escape and "$$" in text:
        pieces = text.split("$$")
        out = []
        for piece in pieces:
            substituted, missing = interpolate(piece, variables)
            out.append(substituted)
            unresolved.extend(missing)
        return "$".join(out), unresolved
    return _INTERPOLATION.sub(replace, text), unresolved
