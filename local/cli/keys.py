"""`jobsched keys`."""

import typer

app = typer.Typer(
    help="API keys over the API: who am I, list, create (the secret shown once), revoke.",
    no_args_is_help=True,
)
