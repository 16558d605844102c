"""`jobsched schedules`."""

import typer

app = typer.Typer(
    help="Recurring jobs: list, show, create, update, delete, enable, disable, trigger, "
    "next fire times, lint.",
    no_args_is_help=True,
)
