"""Catalog sync: upstream product APIs (providers), fetching, the upsert, and the recorded runs."""
