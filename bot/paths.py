"""Where things live, relative to the repository root (one place, so nothing guesses)."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("BOT_VAR_DIR", ROOT / "var"))
MODELS = ROOT / "models"
BUILD = ROOT / "build"
SPACY_MODEL = BUILD / "spacy_en"
DEFAULT_CLINIC_FILE = ROOT / "clinic.yml"
# What Rasa trains on. data/safety_net/ is not among them: bot.nlu.safety_net reads it (its labels,
# such as not_crisis, are no intents of the domain).
RASA_DATA = ("data/nlu", "data/rules", "data/stories")


def default_database_url() -> str:
    """SQLite file under var/ unless DATABASE_URL says otherwise (PostgreSQL in production)."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{VAR / 'rasa.db'}"
