"""The provider's connection type names (pure Python: read by the provider registration).

No "_" in them: they are URI schemes (RFC 3986), and Airflow warns about each use otherwise.
"""

from __future__ import annotations

DATASTORE_TYPE = "mldatastore"
TRACKING_TYPE = "mltracking"
# Compute targets: one type per kind, ``mlcompute<kind>`` (see compute_kinds).

# The names of the first release, still read, with a deprecation warning.
OLD_DATASTORE_TYPE = "ml_datastore"
OLD_TRACKING_TYPE = "ml_tracking"
OLD_COMPUTE_TYPE = "ml_compute"
