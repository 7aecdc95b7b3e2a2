"""Docker Compose files: the image every service runs.

* ``services.NAME.image``, with Compose interpolation: ``${VAR:-default}`` and
  ``${VAR-default}`` use the default (the gate does not see the environment or
  ``.env``), ``$$`` is a literal dollar; a variable without a default leaves
  the image unknown, which is noted instead of guessed.
* A service with ``build:`` and no ``image`` is built from a Dockerfile: no
  image component, a note pointing at that Dockerfile. With both, Compose
  first tries to pull ``image``, so it is checked (and the build noted).
* Commented-out lines are YAML comments and never read; ``x-`` extension
  fields shared through anchors and merge keys (``<<: *defaults``) are
  resolved like Compose resolves them.
* Legacy version-1 files (services at the top level, no ``services`` key)
  are read too.

Every image component has ``path=("services.NAME",)`` and the line of its
``image`` key.
"""

from __future__ import annotations

from checker.images import image_component, interpolate, parse_image, unresolved_message
from checker.inputs import only_input_errors
from checker.model import Origin, ReadResult
from checker.readers import Source
from checker.readers.notes import Notes
from checker.yamldocs import YAML_TOO_DEEP, YMap, mapping_roots

FORMAT = "compose"

_SERVICE_HINTS = ("image", "build")


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.result = ReadResult(path=path, format=FORMAT)
        self.notes = Notes(path, self.result.notes)

    def read(self, data: bytes) -> ReadResult:
        for root in mapping_roots(
            data,
            self.path,
            self.result.notes,
            "is not a Compose file: expected a mapping with `services`",
        ):
            self.document(root)
        return self.result

    def document(self, root: YMap) -> None:
        services = root.get("services")
        if services is None:
            legacy = YMap(root.line, root.source)
            for key, value in root.items():
                if isinstance(value, YMap) and any(h in value for h in _SERVICE_HINTS):
                    legacy[key] = value
                    legacy.lines[key] = root.key_line(key)
            if not legacy:
                if "include" not in root:
                    self.notes.warn(f"line {root.line}", "has no `services`; no images to check")
            else:
                self.notes.warn(
                    f"line {root.line}", "has no `services` key; read as a version-1 Compose file"
                )
            services = legacy
        if "include" in root:
            self.notes.warn(
                f"line {root.key_line('include')}",
                "`include` pulls in other Compose files; they are not followed, scan them too",
            )
        if not isinstance(services, YMap):
            self.notes.warn(
                f"line {root.key_line('services')}", "`services` is not a mapping; ignored"
            )
            return
        for name, service in services.items():
            line = services.key_line(name)
            if not isinstance(service, YMap):
                if service is not None:
                    self.notes.warn(f"line {line}", f"service {name!r} is not a mapping; skipped")
                continue
            self.service(name, service, line)

    def service(self, name: str, service: YMap, line: int) -> None:
        label = f"services.{name}"
        reference = service.get("image")
        builds = "build" in service
        if reference is None or (isinstance(reference, str) and not reference.strip()):
            if builds:
                self.notes.warn(
                    f"line {service.key_line('build')}",
                    f"{label} is built from a Dockerfile (`build:`), not pulled; "
                    "scan that Dockerfile for its base images",
                )
            elif "extends" in service:
                self.notes.warn(
                    f"line {service.key_line('extends')}",
                    f"{label} takes its settings from `extends`; its image is not resolved",
                )
            else:
                self.notes.warn(f"line {line}", f"{label} has no `image`")
            return
        image_line = service.key_line("image")
        if not isinstance(reference, str):
            self.notes.warn(f"line {image_line}", f"{label}.image is not a string; skipped")
            return
        resolved, missing = interpolate(reference.strip(), {}, dollar_escape=True)
        if missing:
            names = ", ".join(sorted(set(missing)))
            self.notes.warn(
                f"line {image_line}",
                f"{label}.image {reference.strip()!r} uses {names} without a default; "
                "the value comes from the environment or .env, which the gate does not "
                "see, so the image cannot be checked",
            )
            return
        image = parse_image(resolved)
        if image is None:
            self.notes.warn(f"line {image_line}", unresolved_message(f"{label}.image", resolved))
            return
        if builds:
            self.notes.warn(
                f"line {image_line}",
                f"{label} has both `image` and `build`: Compose pulls {resolved} if it "
                "exists and builds it otherwise; the image is checked",
            )
        origin = Origin(self.path, f"line {image_line}")
        self.result.components.append(image_component(image, origin, (label,)))


def read_source(source: Source) -> ReadResult:
    return read(source.data, source.name)


def read(data: bytes, path: str) -> ReadResult:
    """Read a Compose file (``compose.yaml``, ``docker-compose*.yml``)."""
    return only_input_errors(
        path, "a Compose file", lambda: _Reader(path).read(data), too_deep=YAML_TOO_DEEP
    )
