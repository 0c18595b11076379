"""Step kinds: how each kind of step becomes its run task and what its fingerprint covers.

What every step has is declared on the authoring model's ``Step`` (pure Python, no Airflow);
what differs between kinds, and needs Airflow or the cache, is here: one module per kind
(``script.py``, ``transfer.py``) and one registration (``kinds.py``).
"""
