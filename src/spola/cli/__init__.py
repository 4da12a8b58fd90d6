"""The command line (Typer app in ``app.py``, Rich rendering in ``render.py``)."""
