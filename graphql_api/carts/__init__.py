"""Carts: a signed-in customer's one cart, or a guest's addressed by its cart token."""
