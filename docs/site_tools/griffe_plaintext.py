"""A griffe extension for the API reference: ubo's docstrings are plain text, not Markdown.

Their indented blocks (algorithm boxes, usage lines, formula tables) are meant verbatim, whatever their
indentation; Markdown takes only blocks indented by four spaces as code and reads a 2-space-indented
`[--runs 2] [--steps 400]` as a reference link. So every block that follows a blank line and is indented
by at least two spaces is re-indented to a code block, a paragraph's closing reST `::` becomes `:`, and a
prose line that starts with `>` or `#` (a wrapped `>= 1 - delta`) is escaped rather than read as a quote
or a heading.
"""

import griffe


def verbatim_blocks(text: str) -> str:
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        starts_block = line.startswith("  ") and line.strip() and (i == 0 or not lines[i - 1].strip())
        if not starts_block:
            line = line[:-1] if line.endswith("::") else line
            out.append("\\" + line if line.startswith((">", "#")) else line)
            i += 1
            continue
        j = i
        while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
            j += 1
        while j > i and not lines[j - 1].strip():
            j -= 1
        block = lines[i:j]
        indent = min(len(b) - len(b.lstrip()) for b in block if b.strip())
        out.extend("    " + b[indent:] if b.strip() else "" for b in block)
        i = j
    return "\n".join(out)


class PlainTextDocstrings(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = verbatim_blocks(obj.docstring.value)
