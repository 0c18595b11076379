"""``SqlDataReference``: rows of a SQL database, as the source of a ``DataTransferStep``.

``datastore`` names an Airflow connection to the database (PostgreSQL, MySQL, SQLite...:
any connection type whose hook is one of the common-sql ``DbApiHook``s); the rows of
``sql_query`` (or of the whole ``sql_table``) are copied as a CSV file with a header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_ml_provider.pipeline.data import DataReference, _datastore_name
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.names import check_name


@dataclass(frozen=True, init=False)
class SqlDataReference(DataReference):
    """A query (or a table) on the database of an Airflow connection."""

    sql_query: str = field(default="", compare=True)

    def __init__(
        self,
        datastore: Any,
        data_reference_name: str | None = None,
        sql_query: str | None = None,
        sql_table: str | None = None,
        sql_stored_procedure: str | None = None,
        sql_stored_procedure_params: Any = None,
        **data_fields: Any,
    ) -> None:
        name = data_reference_name or data_fields.pop("name", None) or "sql_data"
        data_fields.pop("path_on_datastore", None)  # a copy (as_download()...) passes it back
        query = _query(sql_query, sql_table, sql_stored_procedure)
        super().__init__(_datastore_name(datastore) or "", "", name=name, **data_fields)
        object.__setattr__(self, "sql_query", query)
        if self.problem is None:
            try:
                check_name(self.datastore, what="SQL connection id", step=None, argument="datastore")
            except PipelineDefinitionError as error:
                object.__setattr__(self, "problem", error)

    @property
    def file_name(self) -> str:
        """The name of the CSV file the rows are written to."""
        return f"{self.name}.csv"

    def __str__(self) -> str:
        return f"$AML_DATAREFERENCE_{self.name}"


def _query(sql_query: str | None, sql_table: str | None, sql_stored_procedure: str | None) -> str:
    if sql_stored_procedure:
        raise PipelineDefinitionError(
            "stored procedures are not read here (their result sets differ between databases).",
            fix='Select from it in a query instead: sql_query="SELECT * FROM my_function(...)".',
            argument="sql_stored_procedure",
        )
    given = [value for value in (sql_query, sql_table) if value]
    if len(given) != 1:
        raise PipelineDefinitionError(
            "give exactly one of sql_query and sql_table.",
            fix='For example sql_query="SELECT id, amount FROM sales ORDER BY id".',
            argument="sql_query",
        )
    if sql_table:
        if not all(part.replace("_", "").isalnum() for part in sql_table.split(".")):
            raise PipelineDefinitionError(
                f"sql_table {sql_table!r} is not a table name.",
                fix="Give schema.table or table (letters, digits, underscores), or use sql_query.",
                argument="sql_table",
            )
        return f"SELECT * FROM {sql_table}"
    return str(sql_query)
