"""`jobsched groups`."""

import typer

app = typer.Typer(
    help="Groups of jobs run together or in order: create, list, show, cancel, hold, release.",
    no_args_is_help=True,
)
