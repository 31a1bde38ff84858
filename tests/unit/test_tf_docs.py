"""scripts/tf_docs.py: the HCL reader, the tables, and the README check/write cycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import tf_docs

VARIABLES_TF = r"""
# A comment with a brace { that must not open anything
variable "name" {
  description = "Name prefix; braces } and \"quotes\" and ${var.x} stay text."
  type        = string
}

/* a block comment
variable "commented_out" { description = "never read" }
*/

variable "settings" {
  description = <<-EOT
    Settings, on
    two lines.
  EOT
  type = object({
    size    = optional(number, 5) // a trailing comment
    enabled = optional(bool, true)
  })
  default = {}

  validation {
    condition     = var.settings.size >= 1 && length(regex("[{]", "{")) == 1
    error_message = "size must be at least 1 (a } in a message is text)."
  }
}

variable "with_pipe" {
  description = "Either a|b."
  type        = string
  default     = "a|b"
}

locals {
  ignored = { for k, v in var.settings : k => v }
}
"""

OUTPUTS_TF = """
output "arn" {
  description = "ARN of the thing."
  value       = try(aws_thing.this[0].arn, null)

  precondition {
    condition     = var.name != ""
    error_message = "name is needed."
  }
}
"""


@pytest.fixture
def module(tmp_path: Path) -> Path:
    directory = tmp_path / "modules" / "thing"
    directory.mkdir(parents=True)
    (directory / "variables.tf").write_text(VARIABLES_TF, encoding="utf-8")
    (directory / "outputs.tf").write_text(OUTPUTS_TF, encoding="utf-8")
    (directory / "README.md").write_text("# thing\n\nUsage first.\n", encoding="utf-8")
    return directory


def test_reads_variables_and_outputs_past_strings_comments_and_nested_blocks(module: Path) -> None:
    variables, outputs = tf_docs.read_module(module)

    assert [v.name for v in variables] == ["name", "settings", "with_pipe"]
    name, settings, with_pipe = variables
    assert name.description == 'Name prefix; braces } and "quotes" and ${var.x} stay text.'
    assert name.default is None
    assert settings.description == "Settings, on\ntwo lines."
    assert settings.type.startswith("object({") and settings.type.endswith("})")
    assert "// a trailing comment" in settings.type
    assert settings.default == "{}"
    assert with_pipe.default == '"a|b"'
    assert [(o.name, o.description) for o in outputs] == [("arn", "ARN of the thing.")]


def test_renders_required_defaults_multiline_types_and_escaped_pipes(module: Path) -> None:
    tables = tf_docs.render(*tf_docs.read_module(module))

    assert "| `name` | Name prefix;" in tables
    assert "| `string` | n/a | yes |" in tables
    assert "| Settings, on two lines. | <pre>object({<br>  size    = optional(number, 5)" in tables
    assert "<br>})</pre> | `{}` | no |" in tables
    assert '| Either a\\|b. | `string` | `"a\\|b"` | no |' in tables
    assert "| `arn` | ARN of the thing. |" in tables


def test_check_fails_naming_the_module_until_written(
    module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tf_docs.main(["--check", str(module)]) == 1
    assert f"{module}: README.md has no {tf_docs.BEGIN}" in capsys.readouterr().err

    assert tf_docs.main([str(module)]) == 0
    readme = (module / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# thing\n\nUsage first.\n\n" + tf_docs.BEGIN + "\n## Inputs")
    assert readme.endswith(tf_docs.END + "\n")
    assert tf_docs.main(["--check", str(module)]) == 0


def test_check_detects_a_changed_description_and_write_keeps_the_text_around(
    module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tf_docs.main([str(module)])
    readme_path = module / "README.md"
    readme_path.write_text(
        readme_path.read_text(encoding="utf-8") + "\nFooter.\n", encoding="utf-8"
    )
    variables_tf = module / "variables.tf"
    variables_tf.write_text(
        variables_tf.read_text(encoding="utf-8").replace("Either a|b.", "One of a or b."),
        encoding="utf-8",
    )

    assert tf_docs.main(["--check", str(module)]) == 1
    assert "out of date" in capsys.readouterr().err

    assert tf_docs.main([str(module)]) == 0
    readme = readme_path.read_text(encoding="utf-8")
    assert "One of a or b." in readme and "Either" not in readme
    assert readme.endswith("\nFooter.\n") and readme.startswith("# thing\n")


def test_a_variable_without_description_is_reported(
    module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tf_docs.main([str(module)])
    (module / "extra.tf").write_text('variable "bare" {\n  type = string\n}\n', encoding="utf-8")

    assert tf_docs.main(["--check", str(module)]) == 1
    assert "variable 'bare' has no description" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('variable "x" {\n  description = "open\n}\n', "newline in a quoted string"),
        ('variable "x" {\n  description = "x"\n', "unterminated variable block"),
        ('variable "x" {\n  default = <<EOT\nno end\n}\n', "unterminated heredoc"),
        ('variable "x" {\n  default = [1, 2\n}\n', "unbalanced '}'"),
    ],
)
def test_malformed_hcl_is_an_error_with_its_line(text: str, message: str) -> None:
    with pytest.raises(tf_docs.HclError, match=message) as error:
        tf_docs.parse_blocks(text, "bad.tf")
    assert str(error.value).startswith("bad.tf:")


def test_every_module_is_required_and_marked_examples_are_included(tmp_path: Path) -> None:
    terraform = tmp_path / "terraform"
    for directory in ("modules/a", "modules/b", "examples/marked", "examples/plain"):
        (terraform / directory).mkdir(parents=True)
        (terraform / directory / "main.tf").write_text("", encoding="utf-8")
    (terraform / "examples/marked/README.md").write_text(
        f"{tf_docs.BEGIN}\n{tf_docs.END}\n", encoding="utf-8"
    )
    (terraform / "examples/plain/README.md").write_text("# plain\n", encoding="utf-8")

    found = tf_docs.module_directories(terraform)

    assert found == [
        (terraform / "modules/a", True),
        (terraform / "modules/b", True),
        (terraform / "examples/marked", False),
    ]
    assert tf_docs.sync(terraform / "modules/a", required=True, check=True) == "no README.md"
