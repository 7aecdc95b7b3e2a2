"""Where a requirement comes from when it is not an index name: URLs, VCS, paths, archives.

Helpers of the requirements reader that name such a line (``#egg=``, the
wheel or sdist file name, the repository) and find what version an ``==``
pins.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from packaging.specifiers import SpecifierSet

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
VCS = ("git+", "hg+", "svn+", "bzr+")
NAME_AT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*@")
NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
EXTRAS_SUFFIX = re.compile(r"\[[^\]]*\]\s*$")
ARCHIVES = (
    ".whl",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".zip",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
)


def is_url_or_path(text: str) -> bool:
    if URL.match(text) or text.startswith((*VCS, "file:")):
        return True
    head = text.split(";", 1)[0].strip()
    if head.startswith((".", "/", "~")) or "/" in head or "\\" in head:
        return True
    return EXTRAS_SUFFIX.sub("", head).lower().endswith(ARCHIVES)


def pinned(specifier: SpecifierSet) -> str | None:
    """The exact version an ``==`` or ``===`` specifier pins, if any."""
    for spec in specifier:
        if spec.operator == "===":
            return spec.version
        if spec.operator == "==" and not spec.version.endswith(".*"):
            return spec.version
    return None


def egg(location: str) -> str | None:
    """The name in a ``#egg=name[extras]`` fragment, if it is a valid name."""
    fragment = location.partition("#")[2]
    for item in fragment.split("&"):
        key, _, value = item.partition("=")
        if key == "egg":
            name = EXTRAS_SUFFIX.sub("", unquote(value)).strip()
            return name if NAME.match(name) else None
    return None


def basename(location: str) -> str:
    """The last path segment of a URL or local path, without query or fragment."""
    if URL.match(location) or location.startswith(VCS):
        vcs_free = location.split("+", 1)[1] if location.startswith(VCS) else location
        try:
            path = urlsplit(vcs_free).path
        except ValueError:
            path = vcs_free.split("#", 1)[0].split("?", 1)[0]
        return unquote(path.rstrip("/").rsplit("/", 1)[-1])
    return re.split(r"[/\\]", location.split("#", 1)[0].rstrip("/\\"))[-1]
