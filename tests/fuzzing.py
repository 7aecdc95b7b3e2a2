"""The mutators of both fuzz campaigns over the SBOM readers, whatever drives them.

``tests/test_fuzz.py`` runs them under Hypothesis, which shrinks a failing
input to a small one; ``benchmarks/fuzz_readers.py`` runs them from a seeded
``random.Random`` for hundreds of thousands of inputs. Every random decision
goes through a :class:`Chooser`, so both campaigns mutate the same way and a
crash the long one finds is a case the short one can reach. Nothing here
imports Hypothesis or pytest: the benchmark runs without them.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson

from checker.model import ReadResult

T = TypeVar("T")


class Chooser(Protocol):
    """Where a mutator's random decisions come from."""

    def integer(self, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high``, both included."""
        ...

    def pick(self, options: Sequence[T]) -> T:
        """One of ``options`` (never empty)."""
        ...

    def binary(self, low: int, high: int) -> bytes:
        """Random bytes, ``low`` to ``high`` of them."""
        ...

    def text(self) -> str:
        """A string worth putting into a field: mostly :data:`STRINGS`, else random."""
        ...

    def json_value(self) -> Any:
        """A JSON value of any type and shape; strings may be :data:`RAW_JSON` markers."""
        ...


def chance(choose: Chooser, percent: int) -> bool:
    """True ``percent`` times in a hundred; the smallest choice (what shrinking seeks) is False."""
    return choose.integer(0, 99) >= 100 - percent


# --------------------------------------------------------------------------- value pools

#: Fragments that matter to one of the formats' syntax or to license parsing.
# fmt: off
TOKENS = (
    b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\\u0000", b"\\ud800", b"\x00", b"\xff",
    b"\xef\xbb\xbf", b"\xc3", b"<", b">", b"/>", b"&", b"&amp;", b"&#0;", b"&#x110000;",
    b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<?xml", b"\n", b"\r", b"\t", b"<text>", b"</text>",
    b"SPDXVersion: SPDX-2.3\n", b"PackageName: ", b"NOASSERTION", b" AND ", b" OR ", b" WITH ",
    b"(", b")", b"GPL-2.0", b"AGPL-3.0-only", b"LicenseRef-", b"pkg:oci/", b"1e999", b"-0",
    b"null", b"true", b"999999999999999999999999",
)
# fmt: on

#: Keys the readers look at, to grow fields into documents that lack them.
# fmt: off
KEYS = (
    "bomFormat", "specVersion", "metadata", "component", "components", "services", "name",
    "version", "purl", "group", "scope", "type", "licenses", "license", "id", "expression",
    "acknowledgement", "spdxVersion", "SPDXID", "packages", "versionInfo", "licenseConcluded",
    "licenseDeclared", "externalRefs", "referenceCategory", "referenceType", "referenceLocator",
    "primaryPackagePurpose", "attributionTexts", "relationships", "spdxElementId",
    "relatedSpdxElement", "relationshipType", "documentDescribes", "Name", "Version", "License",
    "License-Expression", "License-Metadata", "License-Classifier", "@graph", "@context",
)
# fmt: on

#: Strings that reach interesting code: kinds, purls, image names, license syntax.
# fmt: off
STRINGS = (
    "", " ", "\x00", "\u2028", "\ufeff", "\U0001f600", "CycloneDX", "cyclonedx", "1.2", "1.4",
    "1.6", "1.7", "1.99", "2.0", "SPDX-2.2", "SPDX-2.3", "SPDX-3.0", "library", "application",
    "container", "operating-system", "framework", "firmware", "bogus", "CONTAINER",
    "OPERATING-SYSTEM", "required", "excluded", "MIT", "Apache-2.0", "GPL-2.0",
    "GPL-2.0-or-later", "AGPL-3.0-only", "SSPL-1.0", "BUSL-1.1", "LGPL-3.0-only", "PostgreSQL",
    "NOASSERTION", "NONE", "UNKNOWN", "BSD", "MIT OR AGPL-3.0-only", "MIT AND AGPL-3.0-only",
    "GPL-2.0 WITH Classpath-exception-2.0", "GPL-2.0-only WITH", "WITH MIT", "MIT AND",
    "(MIT", "MIT)", "((((((((((MIT))))))))))", "MIT OR OR MIT", "LicenseRef-foo",
    "DocumentRef-x:LicenseRef-y", "MIT, BSD-3-Clause", "MIT/X11", "BSD License; MIT License",
    "GNU General Public License v2 (GPLv2)",
    "pkg:", "pkg:/", "pkg:%zz", "pkg:deb/debian/bash@5.2", "pkg:rpm/centos/bash@4.2",
    "pkg:pypi/psycopg@3.2.3", "pkg:pypi/psycopg2-binary@2.9", "pkg:npm/%40scope/x@1",
    "pkg:oci/postgresql@sha256:" + "a" * 64 + "?repository_url=docker.io/bitnami/postgresql",
    "pkg:oci/x?repository_url=", "pkg:oci/x@?tag=", "pkg:docker/bitnami/postgresql@15.3.0",
    "pkg:docker/library/postgres@sha256:" + "b" * 64, "pkg:docker/@", "pkg:golang/a/b@v1",
    "docker.io/bitnami/postgresql:15.3.0", "index.docker.io/library/postgres:16",
    "ghcr.io/cloudnative-pg/postgresql:16@sha256:" + "c" * 64, "cockroachdb/cockroach",
    "mariadb", "stackgres", "postgres", "psycopg", "asyncpg", "%", "%zz", "a@b@c", ":::",
    "@sha256:", "x:" + "9" * 200, "PACKAGE-MANAGER", "PACKAGE_MANAGER", "purl", "SECURITY",
    "cpe23Type", "DESCRIBES", "DESCRIBE", "DESCRIBED_BY", "CONTAINS", "SPDXRef-DOCUMENT",
    "SPDXRef-x", "OPERATING_SYSTEM", "LIBRARY", "APPLICATION",
)
# fmt: on

#: Markers replaced in the serialized JSON by text orjson will not write.
RAW_JSON = {
    "__raw_deep_list__": "[" * 2000 + "]" * 2000,
    "__raw_deep_dict__": '{"a":' * 2000 + "1" + "}" * 2000,
    "__raw_nest_ok__": "[" * 600 + "]" * 600,
    "__raw_bigint__": "9" * 400,
    "__raw_bigfloat__": "1e400",
    "__raw_negzero__": "-0.0",
    "__raw_nan__": "NaN",
    "__raw_lone_surrogate__": '"\\ud800"',
    "__raw_nul__": '"\\u0000"',
    "__raw_dup_keys__": '{"name":"a","name":"b","licenses":[],'
    '"licenses":[{"license":{"id":"MIT"}}]}',
}

#: Components nested in components, around the readers' depth limit.
NESTED_COMPONENTS = {
    f"__raw_nested_{depth}__": '{"name":"n","components":[' * depth
    + '{"name":"leaf"}'
    + "]}" * depth
    for depth in (10, 63, 64, 65, 200, 600)
}
RAW_JSON.update(NESTED_COMPONENTS)

# fmt: off
XML_PROLOGUES = (
    '<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE bom [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    '<!DOCTYPE bom SYSTEM "http://127.0.0.1:9/bom.dtd">',
    '<!DOCTYPE bom PUBLIC "-//X//Y" "file:///etc/passwd">',
    "<!DOCTYPE bom>",
    "<!-- a comment --><?pi data?>",
)
# fmt: on
ENTITY_REFERENCES = ("&a;", "&b;", "&xxe;", "&undefined;", "&#65;", "&#0;", "&lt;", "&#x1F600;")
# fmt: off
XML_NAMESPACES = (
    *(f"http://cyclonedx.org/schema/bom/1.{minor}" for minor in range(10)),
    "http://cyclonedx.org/schema/bom/2.0", "https://cyclonedx.org/schema/bom/1.5", "urn:other", "",
)
# fmt: on
# fmt: off
XML_DECLARATIONS = (
    '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="bogus"?>',
    '<?xml version="1.0" encoding="UTF-16"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>',
    '<?xml version="1.1"?>', "",
)
# fmt: on
#: Elements whose text the readers use.
XML_TEXT_TAGS = re.compile(
    r"<(?:name|version|purl|group|id|expression|scope|license|licenses|component)\b"
)
# fmt: off
TAG_LINES = (
    "SPDXVersion: SPDX-2.3", "SPDXVersion: SPDX-9.9", "SPDXVersion:", "DocumentName: {v}",
    "PackageName: {v}", "PackageName:", "SPDXID: {v}", "SPDXID: SPDXRef-DOCUMENT",
    "PackageVersion: {v}", "PackageLicenseConcluded: {v}", "PackageLicenseDeclared: {v}",
    "PackageLicenseConcluded: <text>{v}</text>", "PackageLicenseDeclared: <text>{v}",
    "ExternalRef: PACKAGE-MANAGER purl {v}", "ExternalRef: PACKAGE-MANAGER purl",
    "ExternalRef: {v}", "Relationship: SPDXRef-DOCUMENT DESCRIBES {v}", "Relationship: {v}",
    "PrimaryPackagePurpose: {v}", "PackageAttributionText: <text>{v}</text>",
    "PackageComment: <text>", "</text>", "FileName: {v}", "LicenseID: {v}",
    "ExtractedText: <text>{v}", "# comment {v}", "{v}", ":", "::::", "PackageName: {v}\r",
)
# fmt: on

#: Messages of the readers' ``except Exception`` safety nets: still exit 3, but a
#: Python exception instead of a located explanation usually hides a reader bug.
CATCH_ALL = re.compile(r"could not be read as [\w -]+ \(\w+: |is nested too deeply to read")


# --------------------------------------------------------------------------- seeds


def pip_licenses_seed() -> bytes:
    """pip-licenses ``--format=json`` output (with the variants it really writes)."""
    rows: list[dict[str, Any]] = [
        {"Name": "psycopg", "Version": "3.2.3", "License": "GNU Library or LGPL"},
        {"Name": "requests", "Version": "2.32.3", "License": "Apache Software License"},
        {"Name": "certifi", "Version": "2024.8.30", "License": "MPL-2.0"},
        {"Name": "typing_extensions", "Version": "4.12.2", "License": "UNKNOWN"},
        {"Name": "Jinja2", "Version": "3.1.4", "License": "BSD License; MIT License"},
        {
            "Name": "mysql-connector-python",
            "Version": "9.0.0",
            "License": "GNU General Public License (GPL)",
            "License-Metadata": "GPLv2 with FOSS License Exception",
            "License-Classifier": "GNU General Public License (GPL)",
        },
        {"Name": "pydantic", "Version": "2.9.2", "License-Expression": "MIT"},
        {"Name": "mit-licensed", "Version": "1", "License": "MIT", "LicenseText": "Permission..."},
    ]
    return orjson.dumps(rows, option=orjson.OPT_INDENT_2)


def license_finder_seed() -> bytes:
    """The json-license-finder variant pip-licenses' reader also accepts."""
    rows = [
        {"name": "asyncpg", "version": "0.30.0", "licenses": ["Apache-2.0"]},
        {"name": "sqlalchemy", "version": "2.0.36", "licenses": ["MIT", "BSD"]},
    ]
    return orjson.dumps(rows)


def cut_xml(data: bytes, keep: int) -> bytes:
    """The document with only its first ``keep`` top-level components, and no dependencies.

    Cut as text (tracking element depth), so the seed keeps its namespace
    declaration and layout exactly as the producer wrote them.
    """
    text = data.decode("utf-8")
    depth = kept = 0
    cut: int | None = None
    for tag in re.finditer(r"<(/?)(components|component)(?=[\s>/])", text):
        closing = tag[1] == "/"
        if tag[2] == "component":
            if closing and depth == 1:
                kept += 1
                if kept == keep:
                    cut = text.index(">", tag.end()) + 1
        elif not closing:
            depth += 1
        else:
            depth -= 1
            if depth == 0 and cut is not None:  # the end of the top-level list
                text = text[:cut] + text[tag.start() :]
                break
    text = re.sub(r"<dependencies\b.*?</dependencies>", "", text, flags=re.S)
    return text.encode("utf-8")


# --------------------------------------------------------------------------- mutators

JsonPath = tuple[str | int, ...]

_BYTE_OPS = ("flip", "set", "insert", "token", "delete", "truncate", "splice", "repeat")
#: Replacing is listed twice: it is the mutation that most often keeps a document readable.
_JSON_OPS = ("replace", "replace", "delete", "add", "duplicate", "rename")
# fmt: off
_XML_OPS = (
    "prologue", "entity", "deep", "namespace", "type", "drop", "cdata", "declaration", "truncate",
)
# fmt: on
_TAG_VALUE_OPS = ("value", "insert", "delete", "duplicate", "swap", "truncate", "block")


def mutate_bytes(choose: Chooser, data: bytes, others: Sequence[bytes]) -> bytes:
    """Byte flips, inserts, deletions, truncation and splices with ``others`` (any format)."""
    buf = bytearray(data)
    for _ in range(choose.integer(1, 6)):
        op = choose.pick(_BYTE_OPS)
        pos = choose.integer(0, len(buf))
        if op == "flip" and buf:
            pos = min(pos, len(buf) - 1)
            buf[pos] ^= 1 << choose.integer(0, 7)
        elif op == "set" and buf:
            buf[min(pos, len(buf) - 1)] = choose.integer(0, 255)
        elif op == "insert":
            buf[pos:pos] = choose.binary(1, 16)
        elif op == "token":
            buf[pos:pos] = choose.pick(TOKENS)
        elif op == "delete":
            del buf[pos : pos + choose.integer(1, 64)]
        elif op == "truncate":
            del buf[pos:]
        elif op == "splice":
            other = choose.pick(others)
            buf = buf[:pos] + other[choose.integer(0, len(other)) :]
        elif op == "repeat":
            chunk = bytes(buf[pos : pos + choose.integer(1, 200)])
            buf[pos:pos] = chunk * choose.integer(2, 50)
    return bytes(buf)


def mutate_json(choose: Chooser, data: bytes) -> bytes:
    """Values of other types at random JSON paths; keys deleted, added, duplicated, renamed."""
    doc = orjson.loads(data)
    for _ in range(choose.integer(1, 4)):
        path = choose.pick(json_paths(doc))
        op = choose.pick(_JSON_OPS)
        value = choose.json_value()
        if not path:
            doc = value if op == "replace" else doc
            continue
        parent: Any = _get(doc, path[:-1])
        key = path[-1]
        if op == "replace":
            parent[key] = value
        elif op == "delete":
            del parent[key]
        elif op == "add":
            target = parent[key]
            if isinstance(target, dict):
                target[choose.pick(KEYS)] = value
            elif isinstance(target, list):
                target.insert(choose.integer(0, len(target)), value)
            else:
                parent[key] = value
        elif op == "duplicate" and isinstance(parent, list) and isinstance(key, int):
            parent.extend([copy.deepcopy(parent[key])] * choose.integer(1, 20))
        elif op == "rename" and isinstance(parent, dict):
            parent[choose.pick(KEYS)] = parent.pop(key)
    return _serialize(doc)


def mutate_xml(choose: Chooser, data: bytes) -> bytes:
    """Odd element text, then DTDs, entities, deep nesting, namespaces, truncation; then damage."""
    text = data.decode("utf-8")
    for _ in range(choose.integer(0, 3)):
        starts = [m.start() for m in XML_TEXT_TAGS.finditer(text)]
        if not starts:
            break
        start = choose.pick(starts)
        end = text.find(">", start) + 1
        entity = chance(choose, 10)
        value = choose.pick(ENTITY_REFERENCES) if entity else xml_escape(choose.text())
        text = text[:end] + value + text[end:]
    for _ in range(choose.integer(0, 3)):
        op = choose.pick(_XML_OPS)
        if op == "prologue":
            prologue = choose.pick(XML_PROLOGUES)
            at = text.find("<bom")
            text = text[:at] + prologue + text[at:] if at >= 0 else text
        elif op == "entity":
            positions = [m.end() for m in re.finditer(r"<(?:name|id|expression)>", text)]
            if positions:
                pos = choose.pick(positions)
                text = text[:pos] + choose.pick(ENTITY_REFERENCES) + text[pos:]
        elif op == "deep":
            pos = text.find("</components>")
            if pos >= 0:
                depth = choose.pick((2, 63, 64, 65, 500, 20_000))
                text = text[:pos] + deep_components(depth) + text[pos:]
        elif op == "namespace":
            namespace = choose.pick(XML_NAMESPACES)
            text = re.sub(r'xmlns="[^"]*"', f'xmlns="{namespace}"', text, count=1)
        elif op == "type":
            # doubled backslashes: re.sub reads them as escapes in a replacement
            kind = f'type="{xml_escape(choose.text())}"'.replace("\\", "\\\\")
            text = re.sub(r'type="[^"]*"', kind, text, count=choose.integer(1, 5))
        elif op == "drop":
            tag = choose.pick(("name", "licenses", "components", "purl", "version"))
            text = re.sub(rf"<{tag}\b.*?</{tag}>", "", text, count=1, flags=re.S)
        elif op == "cdata":
            text = text.replace("<name>", "<name><![CDATA[x]]><!--c-->", 1)
        elif op == "declaration":
            text = choose.pick(XML_DECLARATIONS) + re.sub(r"^<\?xml[^>]*\?>", "", text)
        else:
            text = text[: choose.integer(0, len(text))]
    out = text.encode("utf-8", "surrogatepass")
    if chance(choose, 50):  # byte damage on top of the structure
        pos = choose.integer(0, len(out))
        out = out[:pos] + choose.pick(TOKENS) + out[pos:]
    if chance(choose, 10):
        out = reencode(choose, out)
    return out


def mutate_tag_value(choose: Chooser, data: bytes) -> bytes:
    """Line edits: odd values, inserted tags, deletions, duplicates, an unclosed ``<text>``."""
    lines = data.decode("utf-8").split("\n")
    for _ in range(choose.integer(1, 8)):
        if not lines:
            lines = [""]
        op = choose.pick(_TAG_VALUE_OPS)
        index = choose.integer(0, len(lines) - 1)
        value = choose.text()
        if op == "value":
            tag, colon, _ = lines[index].partition(":")
            lines[index] = f"{tag}{colon} {value}" if colon else value
        elif op == "insert":
            lines.insert(index, choose.pick(TAG_LINES).replace("{v}", value))
        elif op == "delete":
            del lines[index]
        elif op == "duplicate":
            lines[index:index] = [lines[index]] * choose.integer(1, 200)
        elif op == "swap":
            other = choose.integer(0, len(lines) - 1)
            lines[index], lines[other] = lines[other], lines[index]
        elif op == "truncate":
            del lines[index:]
        else:  # an unterminated multi-line text block swallowing the rest
            lines.insert(index, f"PackageLicenseComments: <text>{value}")
    out = "\n".join(lines).encode("utf-8", "surrogatepass")
    if chance(choose, 5):
        out = reencode(choose, out)
    return out


#: Lines that matter to YAML's syntax or to the gate's YAML loaders' limits.
YAML_LINES = (
    "a: &a [1, 2, 3]",
    "b: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
    "e: &e {x: *e}",
    "f: *undefined",
    "<<: *a",
    "<<: {image: mariadb:11}",
    "version: !!python/object/apply:os.system ['echo pwned']",
    "x: !!binary aGVsbG8=",
    "x: !Ref something",
    "y: !!set {a, b}",
    "? [complex, key]",
    ": value",
    "---",
    "...",
    "%YAML 1.1",
    "%TAG ! tag:example.com,2000:",
    "image: {{ .Values.image }}",
    "\tkey: tab-indented",
    "key: 'unterminated",
    'key: "\\x00\\ud800"',
    "key: |\n  block\n  text",
    "entries:",
    "- id: LIC-0001",
    "  kind: license",
    "  expires: 2026-02-30",
    "  created: 2026-7-1",
    "images:",
    "  - repository: docker.io/bitnami/postgresql",
    "image:\n  registry: docker.io\n  repository: mongo\n  tag: '7'",
    "[" * 200 + "]" * 200,
    "{" * 200 + "}" * 200,
)
_YAML_OPS = ("line", "line", "duplicate", "delete", "indent", "value", "swap", "truncate")


def _mutate_lines(
    choose: Chooser, data: bytes, edit: Callable[[str, list[str], int], None]
) -> bytes:
    """1 to 6 line edits: repeat, delete, swap or cut lines; ``edit`` does the
    format's own ``line`` (insert), ``indent`` and ``value`` operations."""
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    for _ in range(choose.integer(1, 6)):
        if not lines:
            lines = [""]
        op = choose.pick(_YAML_OPS)
        index = choose.integer(0, len(lines) - 1)
        if op == "duplicate":
            lines[index:index] = [lines[index]] * choose.integer(1, 3)
        elif op == "delete":
            del lines[index]
        elif op == "swap":
            other = choose.integer(0, len(lines) - 1)
            lines[index], lines[other] = lines[other], lines[index]
        elif op == "truncate":
            del lines[index:]
        else:
            edit(op, lines, index)
    text = "\n".join(lines)
    try:
        return text.encode("utf-8", "surrogateescape")  # the seed's own undecodable bytes
    except UnicodeEncodeError:  # a lone surrogate from choose.text(): as invalid UTF-8
        return text.encode("utf-8", "surrogatepass")


def mutate_yaml(choose: Chooser, data: bytes) -> bytes:
    """Line edits: anchors, aliases and bombs, tags, duplicated keys, odd indentation."""

    def edit(op: str, lines: list[str], index: int) -> None:
        if op == "line":
            indent = " " * choose.pick((0, 0, 2, 4, 1))
            lines.insert(index, indent + choose.pick(YAML_LINES))
        elif op == "indent":
            lines[index] = " " * choose.integer(0, 9) + lines[index].lstrip(" ")
        else:  # value
            key, colon, _ = lines[index].partition(":")
            value = choose.text().replace("\n", " ")
            lines[index] = f"{key}{colon} {value}" if colon else value

    return _mutate_lines(choose, data, edit)


#: Names a tree entry may have: inputs, folders the walk treats specially, odd bytes.
WALK_NAMES = (
    "requirements.txt",
    "requirements-dev.txt",
    "constraints.txt",
    "bom.json",
    "sbom.cdx.json",
    "x.spdx",
    "data.json",
    "output.xml",
    "Chart.yaml",
    "Chart.lock",
    "values.yaml",
    "compose.yaml",
    "deploy.yaml",
    "Dockerfile",
    "package-lock.json",
    "poetry.lock",
    "uv.lock",
    "pyvenv.cfg",
    "CACHEDIR.TAG",
    "package.json",
    "README.md",
    "bom-\udcff.json",
    "requirements\n.txt",
    "\x1b[31mbom.json",
)
WALK_FOLDERS = (
    "a",
    "b",
    "node_modules",
    "venv",
    ".venv",
    ".git",
    "site-packages",
    "charts",
    "requirements",
    "bin",
    "env",
    "__pycache__",
)
#: Where links and includes may point; ``{canary}`` is a file outside the tree.
WALK_TARGETS = (
    "{canary}",
    "../{canary_name}",
    "../../{canary_name}",
    "/proc/self/environ",
    "/etc/shadow",
    "/dev/zero",
    "/dev/stdin",
    ".",
    "..",
    "missing.txt",
    "requirements.txt",
    "a/requirements.txt",
)
_WALK_KINDS = ("file", "file", "file", "file", "fifo", "link", "link", "include", "dir")


def walk_spec(choose: Chooser, seeds: Sequence[bytes]) -> bytes:
    """A random tree as JSON: entries (path, kind, content or target) for :func:`build_tree`."""
    entries: list[dict[str, Any]] = []
    for _ in range(choose.integer(1, 12)):
        depth = choose.integer(0, 3)
        path = [choose.pick(WALK_FOLDERS) for _ in range(depth)] + [choose.pick(WALK_NAMES)]
        kind = choose.pick(_WALK_KINDS)
        entry: dict[str, Any] = {"path": path, "kind": kind}
        if kind == "file":
            seed = choose.pick(seeds)
            entry["content"] = mutate_bytes(choose, seed, seeds).decode("latin-1")
        elif kind in ("link", "include"):
            entry["target"] = choose.pick(WALK_TARGETS)
        entries.append(entry)
    return json.dumps(entries).encode("ascii")  # orjson refuses the surrogate-escaped names


def build_tree(spec: bytes, root: Path, canary: Path) -> None:
    """Create the entries of :func:`walk_spec` under ``root`` (created); odd ones are let be."""
    import os

    root.mkdir(parents=True, exist_ok=True)
    for entry in json.loads(spec):
        parts = [str(p) for p in entry["path"]]
        target = root.joinpath(*parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            kind = entry["kind"]
            where = str(entry.get("target", "")).format(canary=canary, canary_name=canary.name)
            if target.exists() or target.is_symlink():
                continue
            if kind == "file":
                target.write_bytes(str(entry["content"]).encode("latin-1"))
            elif kind == "fifo":
                os.mkfifo(target)
            elif kind == "link":
                os.symlink(where, target)
            elif kind == "include":
                target.write_text(f"flask==3.1.0\n-r {where}\n-c {where}\n", encoding="utf-8")
            else:
                target.mkdir()
        except (OSError, UnicodeError):
            continue


def json_paths(doc: Any, limit: int = 4000) -> list[JsonPath]:
    """Every path to a value in ``doc`` (the root included), breadth first."""
    paths: list[JsonPath] = [()]
    queue: list[tuple[JsonPath, Any]] = [((), doc)]
    head = 0
    while head < len(queue) and len(paths) < limit:
        here, node = queue[head]
        head += 1
        if isinstance(node, dict):
            children: list[tuple[str | int, Any]] = list(node.items())
        elif isinstance(node, list):
            children = list(enumerate(node))
        else:
            continue
        for key, child in children:
            paths.append((*here, key))
            queue.append(((*here, key), child))
    return paths


def deep_components(depth: int) -> str:
    """``depth`` XML components each nested in the one before."""
    open_ = '<component type="library"><name>d</name><components>'
    return open_ * depth + "</components></component>" * depth


def xml_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def reencode(choose: Chooser, data: bytes) -> bytes:
    """The same text in another encoding, with or without its byte-order mark."""
    text = data.decode("utf-8", "replace")
    encoding = choose.pick(("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "latin-1"))
    return text.encode(encoding, "replace")


def _get(doc: Any, path: JsonPath) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _serialize(doc: Any) -> bytes:
    try:
        text = orjson.dumps(doc).decode()
    except TypeError:  # orjson refuses > 255 levels; fall back to the root only
        text = "null"
    for marker, raw in RAW_JSON.items():
        if marker in text:
            text = text.replace(f'"{marker}"', raw)
    return text.encode()


# --------------------------------------------------------------------------- the promise


def invalid(result: Any, name: str) -> str | None:
    """What is wrong with what a reader returned for input ``name``, or None.

    The gate and the reports rely on these types: a reader that breaks them
    passes the input to code that was never written for it.
    """
    if not isinstance(result, ReadResult):
        return f"returned {type(result).__name__}"
    if result.path != name:
        return f"result path {result.path!r}"
    for component in result.components:
        if type(component.name) is not str or not component.name:
            return f"component name {component.name!r}"
        if component.origin.path != name:
            return f"component origin {component.origin}"
        for value in (component.version, component.purl, component.group, component.scope):
            if value is not None and type(value) is not str:
                return f"component field {value!r} is {type(value).__name__}"
        for evidence in component.licenses:
            if type(evidence.text) is not str:
                return f"license text {evidence.text!r}"
            if evidence.origin.path != name:
                return f"license origin {evidence.origin}"
    for note in result.notes:
        if note.origin.path != name:
            return f"note origin {note.origin}"
        if type(note.message) is not str:
            return f"note message {note.message!r}"
    return None


# --------------------------------------------------------------------------- Dockerfiles
# (Both campaigns' Dockerfile target: the FROM reader and the RUN-script reader.)

#: Lines that matter to the Dockerfile reader: instructions, shell syntax it must
#: follow or refuse (quotes, substitutions, heredocs, functions), variables.
DOCKERFILE_LINES = (
    "FROM docker.io/library/postgres:18-trixie@sha256:" + "0" * 64,
    "FROM alpine:3.20 AS build",
    "FROM build",
    "FROM ${BASE:-debian}:${TAG}",
    "ARG PG_MAJOR=16",
    "ARG TAG",
    "ENV POSTGIS_MAJOR 3",
    'ENV A=1 B="two words" C=${A:-x}',
    'LABEL org.opencontainers.image.licenses="GPL-2.0-or-later" org.opencontainers.image.title=x',
    "LABEL org.opencontainers.image.licenses",
    "RUN apt-get update && apt-get install -y --no-install-recommends \\",
    "    postgresql-$PG_MAJOR-postgis-$POSTGIS_MAJOR=$POSTGIS_VERSION \\",
    "RUN set -eux; apk add --no-cache --virtual .deps gcc postgis=3.4.2-r0 'x>1'",
    "RUN dnf install -y postgis34_16 @group ./local.rpm && microdnf install -y x-1.2-3",
    'RUN ["sh", "-c", "pip install \\"psycopg[binary]==3.2.1\\" -r req.txt"]',
    'RUN ["apt-get", "install", "-y", "$NOT_EXPANDED"]',
    "RUN [not json",
    "RUN python3 -m pip install --index-url x flask==3.0 git+ssh://x/y.git",
    "RUN uv pip install --system 'requests>=2' && npm i -g @scope/pkg@1.2.3 pnpm@^9",
    "RUN apt-get install -y $(cat /pkgs) `echo y` \"$(printf '%s)' a)\" ${X:-",
    "RUN <<EOF",
    "EOF",
    "RUN f() { apt-get install -y x; }; f",
    'RUN eval "$CMD" || . ./script.sh',
    'RUN if [ -n "$X" ]; then apt-get install -y a 2>&1 >/dev/null; fi | tee log &',
    "RUN --mount=type=cache,target=/root/.cache pip install 'unbalanced",
    'RUN echo "unbalanced \\',
    "RUN apt-get install -y 'ünï' $'\\x00' pkg=${V:?required}",
    "COPY --from=build /a /b",
    "# escape=`",
)


def mutate_dockerfile(choose: Chooser, data: bytes) -> bytes:
    """Line edits of a Dockerfile: instruction lines inserted, repeated, cut, joined, swapped."""

    def edit(op: str, lines: list[str], index: int) -> None:
        if op == "line":
            lines.insert(index, choose.pick(DOCKERFILE_LINES))
        elif op == "indent":
            lines[index] = lines[index] + choose.pick((" \\", "\\", " && \\", ";", " `"))
        else:  # value
            lines[index] += " " + choose.text().replace("\n", " ")

    return _mutate_lines(choose, data, edit)
