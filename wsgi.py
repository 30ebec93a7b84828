"""The app: gunicorn serves `wsgi:app`; `flask --app wsgi <command>` runs the commands on it."""

from app.cli.config import app_or_config_commands

app = app_or_config_commands()  # create_app(), or the config commands alone when production refuses the settings
