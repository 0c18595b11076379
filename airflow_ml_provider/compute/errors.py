"""Errors of the compute kinds: the task fails with their message."""

from __future__ import annotations

from airflow.exceptions import AirflowException


class ComputeError(AirflowException):
    """A step could not run on its compute target (environment build, container, pod)."""
