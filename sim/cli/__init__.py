"""The ``welfare-sim`` command line (typer). Each command lives in its own module with a
``register(app)`` function; :mod:`sim.cli.main` assembles them."""
