"""Rasa SDK custom actions (run by the action server on port 5055)."""
