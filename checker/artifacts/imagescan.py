"""Container images found by shape anywhere in a YAML tree: values files and manifests.

Values files have no schema, so images are recognised by shape anywhere in
the tree (the same scanner reads Kubernetes custom resources and a packaged
chart's values):

* an image map under an image-like key, ``{registry, repository, tag, digest}``
  (Bitnami), ``{repository, tag}`` (``helm create``), ``{name, tag}``, or
  ``{reference}`` (Kubernetes image volumes, CloudNativePG extensions);
* a map with ``repository`` and one of ``tag``, ``digest`` or ``registry``
  under any other key (``metrics.exporter: {repository, tag}``);
* a flat string under an image-like key (``image: ghcr.io/org/app:1.2``).

``global.imageRegistry`` (or ``global.image.registry``) is applied the way
the Bitnami common chart does: it replaces an image's own ``registry`` and
fills it where there is none. An empty tag is what ``helm create`` charts
render as ``.Chart.AppVersion``; without an ``app_version`` the image is
checked without a tag and a note says so. :func:`overlay` is Helm's
coalescing of a parent chart's values over a subchart's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from checker.images import (
    has_variable,
    image_component,
    make_image,
    parse_image,
    split_reference,
    unresolved_message,
)
from checker.model import Component, ImageRef, Origin
from checker.readers.notes import Notes
from checker.yamldocs import YMap, YSeq

_IMAGE_KEYS = frozenset({"imagename", "imageref", "imagereference"})
_MAP_HINTS = ("tag", "digest", "registry")


def values_image_key(key: str) -> bool:
    """Keys a values file names images with: ``image``, ``initImage``, ``imageName``..."""
    lowered = key.lower()
    return lowered.endswith("image") or lowered in _IMAGE_KEYS


def manifest_image_key(key: str) -> bool:
    """Keys a Kubernetes object names images with (containers, CRDs)."""
    return key in ("image", "imageName")


@dataclass(slots=True)
class Hit:
    """One image place found in a tree: the image, or why there is none."""

    keys: tuple[str | int, ...]
    source: str
    line: int
    image: ImageRef | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ScanOptions:
    image_key: Callable[[str], bool] = values_image_key
    #: Report strings under image keys that are not references (values: yes;
    #: manifests: only unresolved variables, since any CRD may say ``image``).
    note_invalid: bool = True
    global_registry: str | None = None
    #: A values file's top-level registry key (``containerRegistry: quay.io``):
    #: the registry of image maps that name none (see checker.artifacts.helm.registry).
    default_registry: str | None = None
    app_version: str | None = None
    #: Top-level keys not to scan (subchart sections a package passes down).
    skip: frozenset[str] = frozenset()


def global_registry(root: YMap) -> str | None:
    """``global.imageRegistry`` or ``global.image.registry``, when set."""
    glob = root.get("global")
    if not isinstance(glob, YMap):
        return None
    text = glob.text("imageRegistry")
    if not text or not text.strip():
        image = glob.get("image")
        text = image.text("registry") if isinstance(image, YMap) else None
    return text.strip() if text and text.strip() else None


def scan(root: Any, options: ScanOptions) -> list[Hit]:
    """Every image place in ``root`` (a values tree or a manifest object)."""
    hits: list[Hit] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, keys = stack.pop()
        if isinstance(node, YMap):
            for key, value in reversed(node.items()):
                if not keys and key in options.skip:
                    continue
                here = (*keys, key)
                if options.image_key(key):
                    if _image_under_key(node, key, value, here, options, hits):
                        continue
                elif isinstance(value, YMap) and _is_loose_image_map(value):
                    hit = _map_hit(value, node, key, here, options)
                    if hit is not None and (hit.image is not None or hit.note is not None):
                        hits.append(hit)
                        continue
                if isinstance(value, (YMap, YSeq)):
                    stack.append((value, here))
        elif isinstance(node, YSeq):
            for index in range(len(node) - 1, -1, -1):
                value = node[index]
                if isinstance(value, (YMap, YSeq)):
                    stack.append((value, (*keys, index)))
    hits.sort(key=lambda hit: (hit.source, hit.line))  # file order, whatever the nesting
    return hits


def _image_under_key(
    holder: YMap,
    key: str,
    value: Any,
    keys: tuple[str | int, ...],
    options: ScanOptions,
    hits: list[Hit],
) -> bool:
    """Record the image under an image-like key; False to keep descending."""
    line = holder.key_line(key)
    source = holder.source_of(key)
    if isinstance(value, YMap):
        if _is_image_map(value):
            hit = _map_hit(value, holder, key, keys, options)
            if hit is not None:
                hits.append(hit)
            return True
        reference = value.text("reference")
        if reference is not None:
            hits.append(_string_hit(reference, keys, source, value.key_line("reference"), options))
            return True
        return False
    if not isinstance(value, str):
        return False
    hit = _string_hit(value, keys, source, line, options)
    if hit.image is not None or hit.note is not None:
        hits.append(hit)
    return True


def _string_hit(
    text: str, keys: tuple[str | int, ...], source: str, line: int, options: ScanOptions
) -> Hit:
    if not text.strip():
        return Hit(keys, source, line, None)
    image = parse_image(text)
    if image is not None:
        return Hit(keys, source, line, image)
    if options.note_invalid or has_variable(text):
        return Hit(keys, source, line, None, unresolved_message(_where(keys), text.strip()))
    return Hit(keys, source, line, None)


def _is_image_map(value: YMap) -> bool:
    if value.text("repository") is not None:
        return True
    return value.text("name") is not None and any(k in value for k in _MAP_HINTS)


def _is_loose_image_map(value: YMap) -> bool:
    return value.text("repository") is not None and any(k in value for k in _MAP_HINTS)


def _where(keys: tuple[str | int, ...]) -> str:
    parts: list[str] = []
    for key in keys:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        else:
            parts.append(("." if parts else "") + key)
    return "".join(parts) or "image"


def _map_hit(
    value: YMap, holder: YMap, key: str, keys: tuple[str | int, ...], options: ScanOptions
) -> Hit | None:
    """Compose ``{registry, repository, tag, digest}`` into one reference."""
    line = holder.key_line(key)
    source = holder.source_of(key)
    where = _where(keys)
    repository = (value.text("repository") or value.text("name") or "").strip()
    if not repository:
        return None  # an image slot left empty on purpose
    registry = (value.text("registry") or "").strip() or None
    tag = (value.text("tag") or "").strip() or None
    digest = (value.text("digest") or "").strip() or None
    notes: list[str] = []
    parts = split_reference(repository)
    own_host = parts is not None and parts.registry is not None
    if options.global_registry:
        if registry and registry != options.global_registry:
            notes.append(
                f"{where}: global.imageRegistry {options.global_registry!r} replaces the "
                f"image's registry {registry!r} (Bitnami convention)"
            )
            registry = options.global_registry
        elif not registry and not own_host:
            registry = options.global_registry
    elif options.default_registry and not registry and not own_host:
        registry = options.default_registry
    text = f"{registry}/{repository}" if registry else repository
    if tag:
        text += f":{tag}"
    if digest:
        text += f"@{digest}"
    image = parse_image(text)
    if image is None:
        if options.note_invalid or has_variable(text):
            return Hit(keys, source, line, None, unresolved_message(where, text))
        return Hit(keys, source, line, None)
    if image.tag is None and image.digest is None:
        if options.app_version:
            with_tag = make_image(image.registry, image.repository, options.app_version)
            if with_tag is not None and with_tag.tag is not None:
                image = with_tag
                notes.append(
                    f"{where}: the tag is empty; the chart's appVersion "
                    f"{options.app_version!r} is assumed (Helm charts render "
                    "`.Values.image.tag | default .Chart.AppVersion`)"
                )
        else:
            notes.append(
                f"{where}: the tag is empty, so the chart's appVersion is used, which a "
                f"values file alone does not know; {image.name} is checked without a tag "
                "(scan the chart's Chart.yaml or package for the version)"
            )
    return Hit(keys, source, line, image, "; ".join(notes) or None)


def hit_results(hits: list[Hit], chart_path: tuple[str, ...], notes: Notes) -> list[Component]:
    """Components for the hits that name an image, notes for the rest.

    A hit may be in another file than the one ``notes`` is about (a parent
    chart's values override a subchart's), so each note is at its hit.
    """
    components: list[Component] = []
    for hit in hits:
        origin = Origin(hit.source, f"line {hit.line}")
        if hit.note:
            notes.at(origin, hit.note)
        if hit.image is not None:
            components.append(image_component(hit.image, origin, chart_path))
    return components


def values_components(
    root: YMap,
    chart_path: tuple[str, ...],
    notes: Notes,
    *,
    app_version: str | None = None,
    skip: frozenset[str] = frozenset(),
    default_registry: str | None = None,
) -> list[Component]:
    """Image components of one (possibly merged) values tree."""
    options = ScanOptions(
        image_key=values_image_key,
        note_invalid=True,
        global_registry=global_registry(root),
        default_registry=default_registry,
        app_version=app_version,
        skip=skip,
    )
    return hit_results(scan(root, options), chart_path, notes)


def overlay(base: YMap, override: YMap) -> YMap:
    """Helm's coalescing: ``override`` (parent values) wins over ``base``.

    Maps merge key by key; a ``null`` in the override deletes the key (Helm's
    way to unset a default). Every key remembers the file it came from, so an
    image whose tag a parent chart overrides points at the parent's line.
    """
    merged = YMap(base.line, base.source)
    merged.sources = {}
    for key, value in base.items():
        merged[key] = value
        merged.lines[key] = base.key_line(key)
        merged.sources[key] = base.source_of(key)
        if key in base.info:
            merged.info[key] = base.info[key]
    for key, value in override.items():
        if value is None:
            if key in merged:
                del merged[key]
                merged.lines.pop(key, None)
                merged.info.pop(key, None)
            continue
        current = merged.get(key)
        if isinstance(value, YMap) and isinstance(current, YMap):
            merged[key] = overlay(current, value)
        else:
            merged[key] = value
        merged.lines[key] = override.key_line(key)
        merged.sources[key] = override.source_of(key)
        if key in override.info:
            merged.info[key] = override.info[key]
        else:
            merged.info.pop(key, None)
    return merged
