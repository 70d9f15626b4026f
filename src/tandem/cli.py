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
    "attribution",
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
    if args[:2] == ["attribution", "paths"]:
        # Attribution over a CSV needs no database: skipping Django's setup saves most of the
        # process start, which is what a whole `tandem attribution paths` run costs.
        sys.exit(_attribution_paths(args[2:]))
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


def _attribution_paths(argv: list[str]) -> int:
    """`tandem attribution paths ...` without Django: the same function the management command calls."""
    import argparse

    from tandem.analytics.compute.paths import PathsError, add_arguments, run_paths_command

    class Parser(argparse.ArgumentParser):
        # One line on bad arguments, like the Django commands (their usage block is switched off).
        def print_usage(self, file: object = None) -> None:
            pass

    parser = Parser(
        prog="tandem attribution paths",
        description="Attribute conversions and value over aggregated journeys (a path CSV).",
    )
    add_arguments(parser)
    options = parser.parse_args(argv)
    try:
        run_paths_command(
            file=options.file,
            sep=options.sep,
            models=options.models,
            out=options.out,
            stdout=sys.stdout,
        )
    except PathsError as exc:
        print(f"tandem attribution paths: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    main()
