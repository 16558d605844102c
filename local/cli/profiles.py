"""`jobsched profiles`."""

import typer

app = typer.Typer(
    help="Named deployments (URL and key) in the config file, readable by its owner only.",
    no_args_is_help=True,
)
