"""`jobsched queue`."""

import typer

app = typer.Typer(
    help="The queue in the order it will run, with ETAs; move, prioritise, reorder, pause, "
    "resume, preview.",
    no_args_is_help=True,
)
