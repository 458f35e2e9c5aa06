"""Post-laminectomy syndrome clinic assistant (Rasa 3.6)."""
from bot import log_privacy

log_privacy.install()
