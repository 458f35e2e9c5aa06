"""The first conversation over the real REST channel: greet, capabilities, thanks, goodbye, fallback."""
import re


def test_greeting_names_the_clinic_and_says_it_is_automated_general_information(chat, clinic_values):
    sender = chat.new_sender()
    messages = chat.send(sender, "hi")
    text = " ".join(m.get("text", "") for m in messages).lower()
    assert clinic_values["clinic_name"].lower() in text
    assert "automated" in text
    assert "medical advice" in text
    assert "post-laminectomy syndrome" in text
    # What it can do is offered as buttons on the first turn.
    titles = [b["title"].lower() for m in messages for b in m.get("buttons", [])]
    assert any("contact" in t for t in titles) and any("warning" in t for t in titles)


def test_greeting_variants_are_understood(chat, clinic_values):
    for greeting in ["hello there", "good morning", "hey, I have a question", "helo"]:
        assert clinic_values["clinic_name"] in chat.joined(chat.new_sender(), greeting)


def test_what_can_you_do_lists_the_three_jobs(chat, clinic_values):
    text = chat.joined(chat.new_sender(), "what can you do?").lower()
    assert "not a doctor" in text
    assert "treatments" in text and "emergency room" in text and "contact" in text
    assert clinic_values["emergency_number"] in text


def test_thanks_and_goodbye(chat, clinic_values):
    sender = chat.new_sender()
    assert "welcome" in chat.joined(sender, "thanks so much").lower()
    bye = chat.joined(sender, "bye")
    assert "take care" in bye.lower()
    assert clinic_values["clinic_phone"] in bye and clinic_values["emergency_number"] in bye


def test_gibberish_gets_a_way_forward_and_a_second_miss_gets_the_clinic(chat, clinic_values):
    sender = chat.new_sender()
    first = chat.joined(sender, "qwpoe zxmv lkjasd").lower()
    assert "another way" in first or "did you mean" in first or clinic_values["clinic_phone"] in first
    second = chat.joined(sender, "zzkq vvbn pplr")
    third = chat.joined(sender, "mmxq trrw")
    assert clinic_values["clinic_phone"] in second + third, "repeated misses must end with the clinic's phone"


def test_no_placeholder_is_left_unfilled_in_any_first_turn_reply(chat):
    for text in ["hi", "what can you do", "thanks", "bye", "blorf"]:
        for m in chat.send(chat.new_sender(), text):
            assert not re.search(r"\{[a-z_]+\}", m.get("text", "")), m


def test_the_conversation_is_stored_in_the_tracker_store(chat, database_url):
    import sqlalchemy as sa

    sender = chat.new_sender("stored")
    chat.send(sender, "hello")
    engine = sa.create_engine(database_url)
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT type_name, intent_name FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}).fetchall()
    assert ("user", "greet") in [(r[0], r[1]) for r in rows]
    assert any(r[0] == "bot" for r in rows)
