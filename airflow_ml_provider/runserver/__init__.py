"""The run server: a warm process that answers ``airflow-ml run`` and ``airflow-ml status``.

Most of a fresh ``airflow-ml run``'s time is start-up that does not depend on the pipeline:
importing Airflow, the provider and MLflow, and building Airflow's in-process execution API
(the routes of every API version). One server per ``AIRFLOW_HOME`` and configuration does
that once, then forks a child per command. The child parses the DAG file fresh, runs the
command exactly as a fresh process would (a real DAG run in Airflow's database), writes to
the caller's terminal (the caller's stdin, stdout and stderr are passed over the socket) and
its exit status goes back to the caller.

This package is the caller's side and imports no Airflow:

- ``key``: what a server is started for (interpreter, installed packages, configuration);
  read without importing Airflow, so the caller stays light.
- ``wire``: the socket and the messages on it.
- ``client``: what ``airflow-ml`` runs first (``airflow_ml_provider.command_line``); the
  command runs in the caller's own process when no server can take it.

The server's side is part of the command line it serves: ``cli/run_server.py`` (accept, fork,
forward signals, report exit statuses) and ``cli/warm.py`` (what is built before forking:
nothing that holds a thread, an event loop or a database connection; and what a child sets up
for its caller).
"""
