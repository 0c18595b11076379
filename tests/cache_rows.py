"""Step cache rows written straight into its tables: what a store that never pruned holds."""

from __future__ import annotations

from airflow_ml_provider.caching.store import StepCacheStore, decisions, pre_images


def never_pruned(store: StepCacheStore, count: int, at: float) -> None:
    """``count`` decisions of step ``d``/``s`` (runs ``old_<i>``) made at ``at``, ``at + 1``, ...,
    each naming a pre-image of its own (``<i>`` as 64 digits), last used when it was made."""
    with store.engine.begin() as connection:
        for index in range(count):
            base = f"{index:064d}"
            connection.execute(pre_images.insert().values(base_key=base, pre_image="{}", used_at=at + index))
            connection.execute(
                decisions.insert().values(
                    dag_id="d",
                    run_id=f"old_{index}",
                    step="s",
                    decision="run",
                    message="run",
                    base_key=base,
                    at=at + index,
                )
            )
