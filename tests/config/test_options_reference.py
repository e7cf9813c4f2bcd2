"""Option help is written once, in the fields' metadata, and every reader shows those words."""
from pathlib import Path

from phaze.cli.main import main
from phaze.config.options import OPTION_FIELDS
from phaze.config.reference import options_markdown
from phaze.ui.design_view import option_schema

DOCS = Path(__file__).resolve().parents[2] / "docs" / "options.md"


def test_every_option_has_help():
    assert all(field.metadata["help"].strip() for field in OPTION_FIELDS.values())


def test_docs_options_page_is_the_generated_reference():
    # regenerate with: phaze options --markdown > docs/options.md
    assert DOCS.read_text() == options_markdown()


def test_phaze_options_and_the_web_page_show_the_same_help(capsys):
    assert main(["options"]) in (0, None)
    printed = capsys.readouterr().out
    schema = {entry["name"]: entry["help"] for entry in option_schema()["options"]}
    for name, field in OPTION_FIELDS.items():
        assert field.metadata["help"] in printed
        assert schema[name] == field.metadata["help"]
