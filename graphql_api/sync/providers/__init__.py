"""Upstream product APIs, one module each, named as SYNC_PROVIDER names them."""
