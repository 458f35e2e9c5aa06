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
responses:
  utter_contact:
    - text: "Call {clinic_name} at {clinic_phone} ({clinic_hours}); emergency {emergency_number}."
  utter_slot:
    - text: "You said: {red_flag_summary}. Phone {clinic_phone}."
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

    nlg = ClinicNLG(domain=DOMAIN, clinic_values=clinic.load(other).template_values())
    text = nlg.generate_from_slots("utter_contact", {}, "rest")["text"]
    assert "Test Spine Center" in text and "555-210-0199" in text and "Monday, 9 am to 12 pm" in text


def test_slot_values_still_fill_and_empty_slots_do_not_hide_clinic_values(clinic_values):
    nlg = ClinicNLG(domain=DOMAIN)
    text = nlg.generate_from_slots("utter_slot", {"red_flag_summary": "loss of bladder control", "clinic_phone": None}, "rest")["text"]
    assert "loss of bladder control" in text and clinic_values["clinic_phone"] in text
