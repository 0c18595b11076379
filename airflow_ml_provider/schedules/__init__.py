"""Schedules beyond time: runs started by data landing on a datastore (``DatastoreSchedule``,
exported by the top-level package)."""
