"""Rasa input channels: validated REST (widget, tests) and messaging connectors."""
