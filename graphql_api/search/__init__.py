"""Search: one port (`port.py`), an Elasticsearch adapter and a database adapter, and indexing."""
