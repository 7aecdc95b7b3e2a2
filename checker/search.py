"""Finding components in a run by what a user types: name, name@version, purl, image."""

from __future__ import annotations

from collections.abc import Sequence

from checker.model import Component, ReadResult


def find_components(results: Sequence[ReadResult], query: str) -> list[Component]:
    """Components whose name, name@version, purl or image reference matches ``query``."""
    wanted = query.strip().casefold()
    found: list[Component] = []
    for result in results:
        for component in result.components:
            candidates = {component.name.casefold(), component.display.casefold()}
            if component.version:
                candidates.add(f"{component.name}@{component.version}".casefold())
            if component.group:
                candidates.add(f"{component.group}/{component.name}".casefold())
            if component.purl:
                candidates.add(component.purl.casefold())
                candidates.add(component.purl.split("?", 1)[0].casefold())
                candidates.add(component.purl.split("@", 1)[0].casefold())
            if component.image is not None:
                candidates.add(component.image.name.casefold())
                candidates.add(str(component.image).casefold())
            if wanted in candidates:
                found.append(component)
    return found
