"""Compute target kinds: one module per kind implementing ``compute.kind.ComputeKind``,
registered in ``compute.kinds``.

The runtime (``airflow_ml_provider.runtime``) runs next to the script on every one of them.
"""
