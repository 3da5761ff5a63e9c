"""A griffe extension for the API reference: Sphinx markup in docstrings becomes Markdown.

The package's docstrings are numpydoc and name other objects with Sphinx roles
(``:func:`tile_images```, ``:class:`~pgm_energy.samplers.SampleSet```) and write formulas
with ``:math:`` and ``.. math::``. mkdocstrings reads Markdown, not Sphinx markup, so without
this every such name would be shown after a literal ``:func:``. A role becomes the code span of
its target (the last part only after ``~``, as Sphinx shows it; the title of
``:role:`title <target>```); a ``.. math::`` line goes, and its indented formula stays a code
block; the ``::`` that opens a literal block becomes ``:`` (the block stays a code block).
"""

import re

import griffe

_MATH_DIRECTIVE = re.compile(r"^[ \t]*\.\. math::[ \t]*\n", flags=re.M)
_LITERAL_BLOCK = re.compile(r"(?<=\S)::[ \t]*$", flags=re.M)
_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const|math):`(?P<text>[^`]+)`")


def _code_span(match: re.Match) -> str:
    text = match.group("text")
    titled = re.fullmatch(r"(?P<title>.+?)\s*<[^>]+>", text)
    if titled:
        text = titled.group("title")
    elif text.startswith("~"):
        text = text[1:].rpartition(".")[2]
    return f"`{text}`"


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring once the object tree is complete."""

    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            text = _MATH_DIRECTIVE.sub("", _ROLE.sub(_code_span, obj.docstring.value))
            obj.docstring.value = _LITERAL_BLOCK.sub(":", text)
