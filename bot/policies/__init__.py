"""Dialogue policies of this product (Rasa policy subclasses)."""
