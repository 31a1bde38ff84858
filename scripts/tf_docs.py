#!/usr/bin/env python3
"""Write or check the Inputs and Outputs tables in each Terraform module's README.

terraform-docs cannot be installed on the project's machines (no downloads outside the
package registries), so this small generator does the part the project uses: it reads the
`variable` and `output` blocks of a directory's *.tf files and renders them as Markdown
tables between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->` in its README.md.

    python scripts/tf_docs.py            # rewrite the tables
    python scripts/tf_docs.py --check    # exit 1 naming each README that is out of date

Every directory under terraform/modules/ must have a README with the markers; the root
stack and the examples are included when their README has the markers.

The HCL reader understands what variables.tf and outputs.tf hold: blocks, attributes,
quoted strings with escapes and ${...} templates, heredocs and all three comment styles.
It keeps each attribute's source text; only `description` is decoded.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM = ROOT / "terraform"
BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"

OPENERS = {"{": "}", "[": "]", "(": ")"}
HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class HclError(ValueError):
    """The text is not HCL this reader understands; the message says where."""


@dataclass(frozen=True)
class Block:
    kind: str
    labels: tuple[str, ...]
    attributes: dict[str, str]  # name -> source text of the expression


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    type: str
    default: str | None  # source text; None when the variable is required


@dataclass(frozen=True)
class Output:
    name: str
    description: str


class _Reader:
    """A cursor over HCL text that skips strings, heredocs and comments as units."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.pos = 0

    def error(self, message: str) -> HclError:
        line = self.text.count("\n", 0, self.pos) + 1
        return HclError(f"{self.source}:{line}: {message}")

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def skip_blank(self, *, newlines: bool) -> None:
        """Skip spaces and comments (and newlines when asked)."""
        while not self.at_end():
            char = self.text[self.pos]
            if char in " \t\r" or (newlines and char == "\n"):
                self.pos += 1
            elif char == "#" or self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            elif self.text.startswith("/*", self.pos):
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated /* comment")
                self.pos = end + 2
            else:
                return

    def skip_string(self) -> None:
        """Skip a quoted string starting at pos, including ${...} templates inside it."""
        self.pos += 1
        while not self.at_end():
            char = self.text[self.pos]
            if char == "\\":
                self.pos += 2
            elif char == '"':
                self.pos += 1
                return
            elif char == "\n":
                raise self.error("newline in a quoted string")
            elif self.text.startswith(("${", "%{"), self.pos):
                self.pos += 2
                self.skip_until_close("}")
            else:
                self.pos += 1
        raise self.error("unterminated string")

    def skip_heredoc(self, match: re.Match[str]) -> None:
        self.pos = match.end()
        marker = match.group(2)
        while not self.at_end():
            end = self.text.find("\n", self.pos)
            line_end = len(self.text) if end < 0 else end
            line = self.text[self.pos : line_end]
            self.pos = line_end + (0 if end < 0 else 1)
            if line.strip() == marker:
                if end >= 0:
                    self.pos -= 1  # leave the newline: it ends the attribute
                return
        raise self.error(f"unterminated heredoc <<{marker}")

    def skip_unit(self) -> None:
        """Skip one character, or a whole string, heredoc or bracketed group."""
        char = self.text[self.pos]
        if char == '"':
            self.skip_string()
        elif heredoc := HEREDOC.match(self.text, self.pos):
            self.skip_heredoc(heredoc)
        elif char in OPENERS:
            self.pos += 1
            self.skip_until_close(OPENERS[char])
        elif char in "}])":
            raise self.error(f"unbalanced {char!r}")
        else:
            self.pos += 1

    def skip_until_close(self, closer: str) -> None:
        """Skip to just past the closer that balances an opener already consumed."""
        while True:
            self.skip_blank(newlines=True)
            if self.at_end():
                raise self.error(f"missing {closer!r}")
            if self.text[self.pos] == closer:
                self.pos += 1
                return
            self.skip_unit()

    def expression(self) -> str:
        """Read an attribute's expression: up to the end of the line outside any brackets."""
        start = self.pos
        while True:
            self.skip_blank(newlines=False)
            if self.at_end() or self.text[self.pos] in "\n}":
                return self.text[start : self.pos].strip()
            self.skip_unit()

    def identifier(self) -> str:
        match = IDENTIFIER.match(self.text, self.pos)
        if not match:
            raise self.error(f"expected a name, found {self.text[self.pos : self.pos + 20]!r}")
        self.pos = match.end()
        return match.group()

    def body(self, kind: str, labels: tuple[str, ...]) -> Block:
        """Read a block body after its '{': top-level attributes; nested blocks skipped."""
        attributes: dict[str, str] = {}
        while True:
            self.skip_blank(newlines=True)
            if self.at_end():
                raise self.error(f"unterminated {kind} block")
            if self.text[self.pos] == "}":
                self.pos += 1
                return Block(kind, labels, attributes)
            name = self.identifier()
            self.skip_blank(newlines=False)
            if self.text.startswith("=", self.pos) and not self.text.startswith("==", self.pos):
                self.pos += 1
                self.skip_blank(newlines=False)
                attributes[name] = self.expression()
            else:
                self.block_header()
                self.skip_until_close("}")

    def block_header(self) -> tuple[str, ...]:
        """Read a block's labels up to and including its '{'."""
        labels: list[str] = []
        while True:
            self.skip_blank(newlines=False)
            if self.at_end():
                raise self.error("expected '{'")
            char = self.text[self.pos]
            if char == "{":
                self.pos += 1
                return tuple(labels)
            if char == '"':
                start = self.pos
                self.skip_string()
                labels.append(decode_string(self.text[start : self.pos]))
            else:
                labels.append(self.identifier())


def parse_blocks(text: str, source: str = "<text>") -> list[Block]:
    """The top-level blocks of an HCL file (attributes at top level are skipped)."""
    reader = _Reader(text, source)
    blocks: list[Block] = []
    while True:
        reader.skip_blank(newlines=True)
        if reader.at_end():
            return blocks
        kind = reader.identifier()
        reader.skip_blank(newlines=False)
        if reader.text.startswith("=", reader.pos):
            reader.pos += 1
            reader.expression()
            continue
        labels = reader.block_header()
        blocks.append(reader.body(kind, labels))


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def decode_string(source: str) -> str:
    """The value of a quoted string or heredoc literal (templates are kept as written)."""
    heredoc = HEREDOC.match(source)
    if heredoc:
        lines = source[heredoc.end() :].split("\n")[:-1]  # the last line is the marker
        if heredoc.group(1):
            indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
            cut = min(indents, default=0)
            lines = [line[cut:] for line in lines]
        return "\n".join(lines)
    if not (len(source) >= 2 and source[0] == source[-1] == '"'):
        raise HclError(f"not a string literal: {source[:40]!r}")
    body = source[1:-1]
    return re.sub(
        r"\\(u[0-9a-fA-F]{4}|.)",
        lambda m: (
            chr(int(m.group(1)[1:], 16))
            if len(m.group(1)) == 5
            else _ESCAPES.get(m.group(1), m.group())
        ),
        body,
    )


def read_module(directory: Path) -> tuple[list[Variable], list[Output]]:
    """The variables and outputs declared in a directory's *.tf files, sorted by name."""
    variables: list[Variable] = []
    outputs: list[Output] = []
    for path in sorted(directory.glob("*.tf")):
        for block in parse_blocks(path.read_text(encoding="utf-8"), str(path)):
            if block.kind not in {"variable", "output"} or len(block.labels) != 1:
                continue
            name = block.labels[0]
            description = block.attributes.get("description")
            if description is None:
                raise HclError(f"{path}: {block.kind} {name!r} has no description")
            text = decode_string(description)
            if block.kind == "variable":
                variables.append(
                    Variable(
                        name,
                        text,
                        block.attributes.get("type", "any"),
                        block.attributes.get("default"),
                    )
                )
            else:
                outputs.append(Output(name, text))
    return sorted(variables, key=lambda v: v.name), sorted(outputs, key=lambda o: o.name)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    """An expression as inline code, or as a <pre> block (one <br> per line) when multi-line."""
    if "\n" in text:
        first, *rest = text.split("\n")
        # The closing line sits at the block's own indent: dedent the others by as much.
        base = len(rest[-1]) - len(rest[-1].lstrip(" "))
        lines = [first] + [line[base:] if line[:base].isspace() else line.lstrip() for line in rest]
        escaped = [html.escape(line, quote=False).replace("|", "&#124;") for line in lines]
        return "<pre>" + "<br>".join(escaped) + "</pre>"
    flat = text.replace("|", "\\|")
    fence = "``" if "`" in flat else "`"
    return f"{fence}{flat}{fence}"


def render(variables: list[Variable], outputs: list[Output]) -> str:
    """The Markdown between the markers."""
    lines = ["## Inputs", ""]
    if variables:
        lines += [
            "| Name | Description | Type | Default | Required |",
            "|------|-------------|------|---------|:--------:|",
        ]
        for variable in variables:
            default = "n/a" if variable.default is None else _code(variable.default)
            required = "yes" if variable.default is None else "no"
            cells = [
                f"`{variable.name}`",
                _cell(variable.description),
                _code(variable.type),
                default,
                required,
            ]
            lines.append("| " + " | ".join(cells) + " |")
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if outputs:
        lines += ["| Name | Description |", "|------|-------------|"]
        lines += [f"| `{output.name}` | {_cell(output.description)} |" for output in outputs]
    else:
        lines.append("No outputs.")
    return "\n".join(lines)


def updated_readme(readme: str, tables: str) -> str:
    """The README with the text between the markers replaced (markers appended if absent)."""
    block = f"{BEGIN}\n{tables}\n{END}"
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 and end < 0:
        return readme.rstrip("\n") + "\n\n" + block + "\n"
    if start < 0 or end < start:
        raise HclError(f"the README's {BEGIN} / {END} markers are out of order or one is missing")
    return readme[:start] + block + readme[end + len(END) :]


def module_directories(terraform: Path) -> list[tuple[Path, bool]]:
    """(directory, required) pairs: every module is required; root and examples when marked."""
    found: list[tuple[Path, bool]] = []
    modules = terraform / "modules"
    if modules.is_dir():
        found += [
            (d, True) for d in sorted(modules.iterdir()) if d.is_dir() and any(d.glob("*.tf"))
        ]
    candidates = [terraform]
    examples = terraform / "examples"
    if examples.is_dir():
        candidates += sorted(d for d in examples.iterdir() if d.is_dir())
    for directory in candidates:
        readme = directory / "README.md"
        if (
            any(directory.glob("*.tf"))
            and readme.is_file()
            and BEGIN in readme.read_text(encoding="utf-8")
        ):
            found.append((directory, False))
    return found


def sync(directory: Path, *, required: bool, check: bool) -> str | None:
    """Bring one README up to date (or, with check, only compare); a problem, or None."""
    readme_path = directory / "README.md"
    if not readme_path.is_file():
        return "no README.md" if required else None
    readme = readme_path.read_text(encoding="utf-8")
    if check and BEGIN not in readme:
        return f"README.md has no {BEGIN} / {END} markers"
    expected = updated_readme(readme, render(*read_module(directory)))
    if expected == readme:
        return None
    if check:
        return "README.md inputs/outputs tables are out of date (run: make tf-docs)"
    readme_path.write_text(expected, encoding="utf-8")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="compare only; exit 1 when a README is out of date"
    )
    parser.add_argument(
        "directories",
        nargs="*",
        type=Path,
        help="module directories (default: all under terraform/)",
    )
    args = parser.parse_args(argv)

    targets = (
        [(d, True) for d in args.directories] if args.directories else module_directories(TERRAFORM)
    )
    failures = 0
    for directory, required in targets:
        try:
            problem = sync(directory, required=required, check=args.check)
        except (HclError, OSError) as error:
            problem = str(error)
        if problem:
            failures += 1
            print(f"{directory}: {problem}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
