"""SPDX 2.2 / 2.3 readers (JSON and tag-value) into the internal model.

Real SPDX documents are often not strictly valid: Trivy writes comma-joined
license lists and ``DESCRIBE`` instead of ``DESCRIBES``, timestamps carry
fractions of a second, fields go missing. A strict parser (``pyspdxtools``)
rejects the whole document over one bad string, which would leave the gate
with nothing to judge, so both readers here read leniently, keep license
strings exactly as given (the license module normalizes them) and turn every
oddity into one :class:`Note` per document rather than one per package.

Lenient is not open: where something that may be a package, or a license
statement, cannot be read (a package entry that is not an object, a
``packages`` of ``null``, tag-value package fields outside any package, a
field stated twice with different values, a nameless package without a usable
purl) the note is an error and the run fails. A distribution purl (``pkg:deb``
and kin) makes a package an OS package only if it parses and the package's
``primaryPackagePurpose`` agrees; otherwise the package is judged by its
purpose, the stricter reading.

Both formats (:mod:`.json_reader`, :mod:`.tag_value`) are read into the same
intermediate form (:mod:`._common`) so the rules that decide kind, license
and subject exist once.
"""

from __future__ import annotations

from checker.sbom.spdx._common import parse_image_reference
from checker.sbom.spdx.json_reader import read_json
from checker.sbom.spdx.tag_value import looks_like_tag_value, read_tag_value

__all__ = ["looks_like_tag_value", "parse_image_reference", "read_json", "read_tag_value"]
