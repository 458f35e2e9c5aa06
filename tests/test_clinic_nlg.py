"""Responses get clinic details from clinic.yml at run time, in the Rasa server (no action server)."""
from rasa.shared.core.domain import Domain

from bot.nlg import ClinicNLG

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
slots:
  red_flag_summary:
    type: text
    mappings: [{type: custom}]
  language:
    type: text
    mappings: [{type: custom}]
  clinic_open:
    type: text
    mappings: [{type: custom}]
responses:
  utter_contact:
    - text: "Call {clinic_name} at {clinic_phone} ({clinic_hours}); emergency {emergency_number}."
  utter_slot:
    - text: "You said: {red_flag_summary}. Phone {clinic_phone}."
  utter_hours:
    - text: "{clinic_now} Office hours: {clinic_hours}."
  utter_urgent:
    - text: "Please call {clinic_phone} today."
    - condition:
        - type: slot
          name: clinic_open
          value: closed
      text: "{clinic_now} Go to the emergency room today."
    - condition:
        - type: slot
          name: language
          value: es
        - type: slot
          name: clinic_open
          value: closed
      text: "{clinic_now_es} Vaya hoy a urgencias."
"""
)


def test_clinic_placeholders_are_filled_from_the_loaded_clinic(clinic_values):
    nlg = ClinicNLG(domain=DOMAIN)
    text = nlg.generate_from_slots("utter_contact", {}, "rest")["text"]
    assert clinic_values["clinic_name"] in text and clinic_values["clinic_phone"] in text
    assert clinic_values["clinic_hours"] in text and "{" not in text


def test_a_different_clinic_changes_the_reply(tmp_path):
    other = tmp_path / "clinic.yml"
    other.write_text(
        "name: Test Spine Center\naddress: 1 Test Way, Testville, OH 40000\nphone: '555-210-0199'\n"
        "email: desk@example.org\nemergency_number: '911'\ncrisis_line: '988'\nhours: {monday: '09:00-12:00', tuesday: closed, wednesday: closed, thursday: closed, friday: closed, saturday: closed, sunday: closed}\n"
    )
    from bot import clinic

    nlg = ClinicNLG(domain=DOMAIN, details=clinic.load(other))
    text = nlg.generate_from_slots("utter_contact", {}, "rest")["text"]
    assert "Test Spine Center" in text and "555-210-0199" in text and "Monday, 9 am to 12 pm" in text


def test_slot_values_still_fill_and_empty_slots_do_not_hide_clinic_values(clinic_values):
    nlg = ClinicNLG(domain=DOMAIN)
    text = nlg.generate_from_slots("utter_slot", {"red_flag_summary": "loss of bladder control", "clinic_phone": None}, "rest")["text"]
    assert "loss of bladder control" in text and clinic_values["clinic_phone"] in text


def _clinic_at(local: str):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot import clinic

    details = clinic.load()
    moment = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(details.timezone))
    return ClinicNLG(domain=DOMAIN, details=details, clock=lambda: moment)


def test_open_right_now_is_answered_from_the_clinic_hours_and_time_zone(clinic_values):
    # clinic.yml: Monday to Friday 8 am to 4:30 pm, America/New_York; 2024-06-10 is a Monday
    during = _clinic_at("2024-06-10T10:00").generate_from_slots("utter_hours", {}, "rest")["text"]
    assert during == f"The office is open now, until 4:30 pm today. Office hours: {clinic_values['clinic_hours']}."
    saturday = _clinic_at("2024-06-15T10:00").generate_from_slots("utter_hours", {}, "rest")["text"]
    assert saturday.startswith("The office is closed right now. It opens again on Monday at 8 am.")


def test_after_hours_an_urgent_reply_does_not_send_the_person_to_a_closed_office(clinic_values):
    evening = _clinic_at("2024-06-10T19:30")
    assert evening.generate_from_slots("utter_urgent", {}, "rest")["text"] == (
        "The office is closed right now. It opens again tomorrow at 8 am. Go to the emergency room today."
    )
    assert evening.generate_from_slots("utter_urgent", {"language": "es"}, "rest")["text"] == (
        "La oficina está cerrada ahora. Abre de nuevo mañana a las 08:00. Vaya hoy a urgencias."
    )
    morning = _clinic_at("2024-06-11T09:00")
    assert morning.generate_from_slots("utter_urgent", {}, "rest")["text"] == f"Please call {clinic_values['clinic_phone']} today."
