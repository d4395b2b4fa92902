"""Build machinery of the documentation site (`make docs`); not part of the installed package."""
