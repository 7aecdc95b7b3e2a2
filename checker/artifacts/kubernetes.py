"""Kubernetes manifests: the images every object of a multi-document file runs.

* **Workloads** (Pod, PodTemplate, Deployment, StatefulSet, DaemonSet,
  ReplicaSet, ReplicationController, Job, CronJob of the built-in API groups):
  the pod spec's ``containers``, ``initContainers`` and
  ``ephemeralContainers`` images and image volumes (``volumes[].image.reference``);
  CronJob through ``spec.jobTemplate``.
* **Custom resources** and any kind this module does not know: every key
  named ``image`` or ``imageName`` whose value reads as an image reference,
  and ``image`` maps (``{reference}``, ``{repository, tag}``), anywhere but in
  ``metadata`` and ``status``. That covers CloudNativePG (``Cluster``
  ``spec.imageName``, ``spec.postgresql.extensions[].image.reference``,
  ``Pooler`` ``spec.pgbouncer.image`` and its pod template, ``ImageCatalog``
  ``spec.images[].image``) and most operators. A Cluster that takes its image
  from a catalog (``spec.imageCatalogRef``) is noted.
* **Kustomization** ``images[]`` overrides (``newName``/``newTag``/``digest``).
* Kinds that never name images (ConfigMap, Secret, Service, RBAC, CRDs ...)
  are skipped: a ConfigMap key called ``image`` is data, not a deployment.
* ``List`` kinds are read item by item.

Every image component has ``path=("Kind/name",)`` and the line of its image
key.

A Helm template (``{{ }}`` outside quotes that is not YAML) cannot be read as
YAML, but skipping it outright would let an image written literally into a
template past the gate. So its ``image:``/``imageName:`` lines are read as
text: a literal reference becomes a component like any other (path
``("template",)``), and a templated one (``{{ ... }}``, normally resolved
from the chart's ``values.yaml``, which the gate reads) leaves one note
saying the rendered output is what proves it. A template without image lines
(a Service, a Secret) gives nothing: there is no image in it to miss.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from checker.artifacts.imagescan import Hit, ScanOptions, hit_results, manifest_image_key, scan
from checker.images import parse_image, unresolved_message
from checker.inputs import only_input_errors
from checker.model import ReadResult
from checker.readers import Source
from checker.readers.notes import Notes
from checker.yamldocs import YAML_TOO_DEEP, YMap, YSeq, load

FORMAT = "kubernetes"

_TOP_API_VERSION = re.compile(rb"^apiVersion:[ \t]*\S", re.MULTILINE)
_TOP_KIND = re.compile(rb"^kind:[ \t]*\S", re.MULTILINE)

# `image: value` or `- imageName: value` on one line of a template; the value runs to a
# comment (` #`) or the end of the line.
_TEMPLATE_IMAGE_LINE = re.compile(
    r"^\s*(?:-\s+)?(?P<key>image|imageName)\s*:\s*(?P<value>[^#\s][^#]*?)?\s*(?:\s#.*)?$"
)
_TEMPLATE_ONLY_NOTE = (
    "Helm template: {count} image reference(s) are templated (e.g. line {line}) and "
    "resolve from the chart's values, which are scanned with the chart; the rendered "
    "output (`helm template`) is what proves them"
)

_WORKLOAD_GROUPS = frozenset(
    {"v1", "apps/v1", "batch/v1", "batch/v1beta1", "extensions/v1beta1"}
    | {"apps/v1beta1", "apps/v1beta2"}
)
_POD_SPEC: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_NO_IMAGES = frozenset(
    {
        "APIService",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "CustomResourceDefinition",
        "Endpoints",
        "EndpointSlice",
        "Event",
        "HorizontalPodAutoscaler",
        "Ingress",
        "IngressClass",
        "Lease",
        "LimitRange",
        "MutatingWebhookConfiguration",
        "Namespace",
        "NetworkPolicy",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "PodDisruptionBudget",
        "PriorityClass",
        "ResourceQuota",
        "Role",
        "RoleBinding",
        "Secret",
        "Service",
        "ServiceAccount",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
    }
)
_SKIPPED_TOP = frozenset({"apiVersion", "kind", "metadata", "status"})
_MAX_LIST_DEPTH = 8


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.result = ReadResult(path=path, format=FORMAT)
        self.notes = Notes(path, self.result.notes)

    def read(self, data: bytes) -> ReadResult:
        loaded = load(data, self.path)
        if loaded.template:
            self.template(data.decode("utf-8", errors="replace"))
            return self.result
        self.notes.items.extend(loaded.notes)
        for document in loaded.documents:
            root = document.root
            if root is None:
                continue
            if not isinstance(root, YMap):
                self.notes.warn(
                    f"line {document.line}",
                    f"document {document.index + 1} is not a Kubernetes object (a mapping); "
                    "skipped",
                )
                continue
            self.object(root, document.index, 0)
        return self.result

    def object(self, obj: YMap, index: int, depth: int) -> None:
        kind = (obj.text("kind") or "").strip()
        api = (obj.text("apiVersion") or "").strip()
        metadata = obj.get("metadata")
        name = ""
        if isinstance(metadata, YMap):
            name = (metadata.text("name") or "").strip()
            if not name and metadata.text("generateName"):
                name = (metadata.text("generateName") or "").strip() + "*"
        label = f"{kind or 'object'}/{name or f'document-{index + 1}'}"
        items = obj.get("items")
        if kind.endswith("List") and isinstance(items, YSeq):
            if depth >= _MAX_LIST_DEPTH:
                self.notes.warn(f"line {obj.line}", f"{label}: lists nested too deeply; skipped")
                return
            for item in items:
                if isinstance(item, YMap):
                    self.object(item, index, depth + 1)
            return
        if not kind:
            self.notes.warn(
                f"line {obj.line}", f"document {index + 1} has no `kind`; read for images anyway"
            )
        if kind in _NO_IMAGES:
            return
        if kind == "Kustomization":
            self.kustomization(obj, label)
            return
        spec_path = _POD_SPEC.get(kind) if api in _WORKLOAD_GROUPS else None
        if spec_path is not None:
            pod_spec = _get(obj, spec_path)
            if not isinstance(pod_spec, YMap):
                self.notes.warn(
                    f"line {obj.line}", f"{label} has no pod spec at {'.'.join(spec_path)}"
                )
                return
            hits = scan(pod_spec, ScanOptions(image_key=manifest_image_key, note_invalid=True))
        else:
            body = YMap(obj.line, obj.source)
            for key, value in obj.items():
                if key not in _SKIPPED_TOP:
                    body[key] = value
                    body.lines[key] = obj.key_line(key)
                    if key in obj.info:
                        body.info[key] = obj.info[key]
            hits = scan(body, ScanOptions(image_key=manifest_image_key, note_invalid=False))
            self.catalog_reference(obj, kind, label)
        self.result.components.extend(hit_results(hits, (label,), self.notes))

    def template(self, text: str) -> None:
        """Image lines of a Helm template: literal ones checked, templated ones noted."""
        hits: list[Hit] = []
        templated: list[int] = []
        for number, line in enumerate(text.splitlines(), start=1):
            match = _TEMPLATE_IMAGE_LINE.match(line)
            if match is None or not match.group("value"):
                continue
            value = match.group("value").strip()
            if "{{" in value:
                templated.append(number)
                continue
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            image = parse_image(value)
            note = None if image is not None else unresolved_message(match.group("key"), value)
            hits.append(Hit((match.group("key"),), self.path, number, image, note))
        self.result.components.extend(hit_results(hits, ("template",), self.notes))
        if templated:
            message = _TEMPLATE_ONLY_NOTE.format(count=len(templated), line=templated[0])
            self.notes.warn(f"line {templated[0]}", message)

    def catalog_reference(self, obj: YMap, kind: str, label: str) -> None:
        """CloudNativePG Clusters may take their image from an (Cluster)ImageCatalog."""
        spec = obj.get("spec")
        ref = spec.get("imageCatalogRef") if isinstance(spec, YMap) else None
        if kind != "Cluster" or not isinstance(ref, YMap) or not isinstance(spec, YMap):
            return
        catalog = f"{ref.text('kind') or 'ImageCatalog'}/{ref.text('name') or '?'}"
        major = ref.text("major")
        self.notes.warn(
            f"line {spec.key_line('imageCatalogRef')}",
            f"{label} takes its PostgreSQL image from {catalog}"
            + (f" (major {major})" if major else "")
            + "; scan that catalog's manifest for the image",
        )

    def kustomization(self, obj: YMap, label: str) -> None:
        images = obj.get("images")
        if not isinstance(images, YSeq):
            return
        hits: list[Hit] = []
        for position, entry in enumerate(images):
            if not isinstance(entry, YMap):
                continue
            line = images.item_line(position)
            name = (entry.text("newName") or entry.text("name") or "").strip()
            if not name:
                continue
            text = name
            tag = (entry.text("newTag") or "").strip()
            digest = (entry.text("digest") or "").strip()
            if tag:
                text += f":{tag}"
            if digest:
                text += f"@{digest}"
            image = parse_image(text)
            note = None if image is not None else unresolved_message(f"images[{position}]", text)
            hits.append(Hit(("images", position), obj.source, line, image, note))
        self.result.components.extend(hit_results(hits, (label,), self.notes))


def _get(obj: YMap, keys: tuple[str, ...]) -> Any:
    current: Any = obj
    for key in keys:
        if not isinstance(current, YMap):
            return None
        current = current.get(key)
    return current


def looks_like_kubernetes(head: bytes) -> bool:
    """Top-level ``apiVersion:`` and ``kind:`` lines in the first bytes."""
    return bool(_TOP_API_VERSION.search(head) and _TOP_KIND.search(head))


def sniff(path: Path, head: bytes) -> bool:
    """A YAML file is a manifest when its first bytes have top-level apiVersion and kind."""
    return looks_like_kubernetes(head)


def read_source(source: Source) -> ReadResult:
    return read(source.data, source.name)


def read(data: bytes, path: str) -> ReadResult:
    """Read a Kubernetes manifest (one or more YAML documents)."""
    return only_input_errors(
        path, "a Kubernetes manifest", lambda: _Reader(path).read(data), too_deep=YAML_TOO_DEEP
    )
