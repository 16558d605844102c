"""`jobsched jobs`."""

import typer

app = typer.Typer(
    help="Submit, list, show, cancel, hold, release and rerun jobs; wait for one, follow its log.",
    no_args_is_help=True,
)
