"""The documentation site's content, rendered from the data the gate enforces.

Why a package of plain modules rather than a MkDocs plugin: the site must
never disagree with ``policy/``, ``vex/`` and ``adr/``, so its tables are
generated from them; and MkDocs 1.x and Material are in managed decline
(ADR-0009), so the rendering must survive a change of generator. Everything
here takes data and returns Markdown plus a list of problems; nothing imports
MkDocs except :mod:`checker.docs.mkdocs_hooks`, the thin adapter MkDocs loads
through ``hooks:`` in ``mkdocs.yml``.

``mdtables``
    Markdown escaping and pipe tables.
``decisions``
    the licensing decision table (``policy/dependencies.yaml``) and the
    license policy (``policy/licenses.yaml``).
``vexpage``
    the VEX register (``vex/``): active and expired entries, days left.
``adrs``
    the ADRs (``adr/``): MADR 4 front matter, the status lifecycle, the
    index, the nav and the pages themselves.
``clireference``
    the gate's CLI reference, walked from :func:`checker.cli.build_parser`.
``rulereference``
    every rule the gate can emit, from the registry :data:`checker.rules.RULES`.
``directives``
    the ``<!-- rune:NAME -->`` markers pages use to include the above.

Module names avoid top-level package names (``site``, ``markdown``) because
MkDocs puts the hook's folder on ``sys.path`` while it imports the hook.
"""
