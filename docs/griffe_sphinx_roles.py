"""A griffe extension for the API reference: Sphinx markup in docstrings becomes Markdown.

The package's docstrings are numpydoc and name other objects with Sphinx roles
(``:func:`tile_images```, ``:class:`~pgm_energy.samplers.SampleSet```) and write formulas
with ``:math:`` and ``.. math::``. mkdocstrings reads Markdown, not Sphinx markup, so without
this every such name would be shown after a literal ``:func:``.

- A role becomes the code span of its target (the last part only after ``~``, as Sphinx shows
  it; the title of ``:role:`title <target>```), linked to the target's entry in the reference
  when there is one: the link is an *optional* cross-reference, so a name that the reference
  does not show (a private helper) stays plain code instead of failing the strict build.
- ``:math:`` becomes a code span; a ``.. math::`` line goes, and its indented formula stays a
  code block; the ``::`` that opens a literal block becomes ``:``.
"""

import re

import griffe

_MATH_DIRECTIVE = re.compile(r"^[ \t]*\.\. math::[ \t]*\n", flags=re.M)
_LITERAL_BLOCK = re.compile(r"(?<=\S)::[ \t]*$", flags=re.M)
_ROLE = re.compile(r":(?:py:)?(?P<role>func|class|meth|mod|attr|data|exc|obj|const|math):`(?P<text>[^`]+)`")


def _identifier(obj: griffe.Object, target: str) -> str:
    """The full path that ``target`` names where ``obj``'s docstring mentions it (as written if unknown)."""
    target = target.lstrip(".")
    if target.startswith("pgm_energy"):
        return target
    head, _, rest = target.partition(".")
    scope = obj if obj.is_module or obj.is_class else (obj.parent or obj)
    try:
        resolved = scope.resolve(head)
    except (griffe.NameResolutionError, AttributeError):
        return target
    return f"{resolved}.{rest}" if rest else resolved


def _markdown(obj: griffe.Object, match: re.Match) -> str:
    role, text = match.group("role"), match.group("text")
    if role == "math":
        return f"`{text}`"
    titled = re.fullmatch(r"(?P<title>.+?)\s*<(?P<target>[^>]+)>", text)
    if titled:
        title, target = titled.group("title"), titled.group("target")
    else:
        target = text.lstrip("~")
        title = target.rpartition(".")[2] if text.startswith("~") else target
    # the title as a Markdown code span, so that Markdown leaves names like __getitem__ alone
    return f'<autoref identifier="{_identifier(obj, target)}" optional>`{title}`</autoref>'


class SphinxRoles(griffe.Extension):
    """Rewrite every docstring once the object tree is complete (names can be resolved then)."""

    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            text = _ROLE.sub(lambda match: _markdown(obj, match), obj.docstring.value)
            obj.docstring.value = _LITERAL_BLOCK.sub(":", _MATH_DIRECTIVE.sub("", text))
