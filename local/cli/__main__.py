from local.cli import app

app()
