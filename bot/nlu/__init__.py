"""Custom NLU pieces: the local spaCy pipeline builder and Rasa components."""
