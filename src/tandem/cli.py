"""The `tandem` console script: one entry point over Django's management commands."""

from __future__ import annotations

import os
import sys

# CONTRACT.md names → management commands (`import` and `export` are Python keywords).
ALIASES = {"import": "import_data", "export": "export_data"}
COMMANDS = [
    "demo",
    "serve",
    "worker",
    "apikey",
    "source",
    "import",
    "export",
    "migrate",
    "createsuperuser",
    "shell",
]


def main(argv: list[str] | None = None) -> None:
    """Run `tandem <command> [args]`."""
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    if not args or args[0] in ("-h", "--help", "help"):
        print("usage: tandem <command> [options]\n\ncommands: " + ", ".join(COMMANDS))
        print("run `tandem <command> --help` for a command's options")
        sys.exit(0 if args else 2)
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except (ImproperlyConfigured, ValueError) as exc:
        print(f"tandem: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    from django.core.management import execute_from_command_line
    from django.core.management.base import CommandParser

    # Bad arguments end in one line ("tandem X: error: ..."), not a usage block; --help is unchanged.
    CommandParser.print_usage = lambda self, file=None: None  # type: ignore[method-assign]

    command = ALIASES.get(args[0], args[0])
    execute_from_command_line(["tandem", command, *args[1:]])


if __name__ == "__main__":
    main()
