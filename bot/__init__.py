"""Post-laminectomy syndrome clinic assistant (Rasa 3.6)."""
