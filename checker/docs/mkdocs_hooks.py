"""The MkDocs adapter: the only module here that knows MkDocs (``hooks:`` in mkdocs.yml).

It stays thin on purpose (ADR-0009): it reads the repository once per
build, adds the ADR pages, fills the ADR nav, expands markers and logs
problems. Everything it shows comes from :mod:`checker.docs.directives`, so a
move to another site generator rewrites this file only.

Problems are logged as warnings on ``mkdocs.plugins.rune``: MkDocs counts
warnings only under the ``mkdocs.*`` namespace, and ``mkdocs build --strict``
aborts on any, so bad data fails the build and the log says which file and
what is wrong. ``RUNE_DOCS_TODAY=YYYY-MM-DD`` fixes the date the VEX register
is judged on.
"""

from __future__ import annotations

import logging
import os
from datetime import date
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from checker.docs import directives

log = logging.getLogger("mkdocs.plugins.rune")

_state: dict[str, directives.SiteData] = {}


def _today() -> date:
    text = os.environ.get("RUNE_DOCS_TODAY", "").strip()
    return date.fromisoformat(text) if text else date.today()


def _replace_placeholder(nav: Any, entries: list[dict[str, str]]) -> tuple[Any, bool]:
    """Put the ADR entries where the nav names the placeholder; say whether it was found."""
    if isinstance(nav, list):
        out: list[Any] = []
        found = False
        for item in nav:
            if item == directives.ADR_NAV_PLACEHOLDER:
                out.extend(entries)
                found = True
                continue
            new, hit = _replace_placeholder(item, entries)
            out.append(new)
            found = found or hit
        return out, found
    if isinstance(nav, dict):
        result: dict[str, Any] = {}
        found = False
        for key, value in nav.items():
            if value == directives.ADR_NAV_PLACEHOLDER:
                result[key] = entries
                found = True
                continue
            result[key], hit = _replace_placeholder(value, entries)
            found = found or hit
        return result, found
    return nav, False


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    root = Path(config.config_file_path).resolve().parent
    data = directives.load_site(root, _today())
    _state["data"] = data
    for problem in data.problems:
        log.warning("%s", problem)
    if config.nav is not None:
        config.nav, found = _replace_placeholder(config.nav, directives.adr_nav(data))
        if not found:
            log.warning("nav: no '%s' entry for the ADR pages", directives.ADR_NAV_PLACEHOLDER)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    data = _state["data"]
    for uri, content in directives.adr_pages(data).items():
        files.append(File.generated(config, uri, content=content))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    data = _state["data"]
    text, problems = directives.expand(markdown, data, page.file.src_uri)
    for problem in problems:
        log.warning("%s", problem)
    return text
