"""`jobsched runs`."""

import typer

app = typer.Typer(
    help="List and show runs, read or follow a run's log, download its artifacts.",
    no_args_is_help=True,
)
