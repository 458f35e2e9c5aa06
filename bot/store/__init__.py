"""Persistence: the product's own tables beside Rasa's tracker `events` table (one database)."""
