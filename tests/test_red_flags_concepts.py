"""The concept screen and the scopes around it (bot/nlu/red_flag_concepts.yml), on the detector alone.

Each case is a kind of message, not a sentence to memorise: an unseen combination of known concepts
fires; an idiom, another subject, advice quoted back or a question about a word does not; a vague sign
asks; a refusal, a correction and a caregiver are recognised. Phrasings written for these tests (the blind
sets that measure the product are never copied here).
"""
from __future__ import annotations

import pytest
import yaml

from bot.nlu.red_flag_matcher import CONCEPTS_FILE, PATTERNS_FILE, RedFlagMatcher


@pytest.fixture(scope="module")
def detector() -> RedFlagMatcher:
    return RedFlagMatcher.shared()


def tier_and_categories(detector, text):
    d = detector.detect(text)
    return d.tier, sorted(f.category for f in d.findings)


@pytest.mark.parametrize("text, tier, category", [
    # body function x inability, in words no phrase pattern lists
    ("it has been ten hours and I still haven't been able to pass any water", "EMERGENCY", "urinary_retention"),
    ("I try and try but only a few drops come", "EMERGENCY", "urinary_retention"),
    ("no void since 6am despite trying", "EMERGENCY", "urinary_retention"),
    # body function x lost control
    ("my mum keeps wetting the bed and has no idea", "EMERGENCY", "bladder_control"),
    ("stool leaking out without me feeling it", "EMERGENCY", "bowel_control"),
    # saddle area x numbness
    ("the insides of my thighs have gone numb since lunch", "EMERGENCY", "saddle_numbness"),
    ("can't feel the loo roll at all", "EMERGENCY", "saddle_numbness"),
    # both legs x giving way
    ("both knees keep buckling on the stairs", "EMERGENCY", "leg_weakness_both"),
    ("bilateral leg weakness getting worse over the day", "EMERGENCY", "leg_weakness_both"),
    ("chest feels like a brick on it and I can't get enough air", "EMERGENCY", "chest_or_breathing"),
    ("swallowed a handful of my sleeping pills twenty minutes ago", "EMERGENCY", "overdose"),
    # Spanish and Spanglish through the same concepts
    ("llevo doce horas sin orinar", "EMERGENCY", "urinary_retention"),
    ("mi esposa no siente nada en la entrepierna", "EMERGENCY", "saddle_numbness"),
    ("se me doblan las dos piernas", "EMERGENCY", "leg_weakness_both"),
    ("me duele el pecho y me falta el aire", "EMERGENCY", "chest_or_breathing"),
    ("my dad no puede orinar since last night", "EMERGENCY", "urinary_retention"),
    # crisis: means, third person, religious wording, self-harm
    ("I have been stashing my percocet in a sock", "CRISIS", "suicidal_thoughts"),
    ("my brother says he'll hang himself if this pain keeps up", "CRISIS", "suicidal_thoughts"),
    ("every night I beg the Lord to take me", "CRISIS", "suicidal_thoughts"),
    ("been cutting my arms again when the pain gets bad", "CRISIS", "suicidal_thoughts"),
    ("le pido a dios que me lleve", "CRISIS", "suicidal_thoughts"),
    # a wish x not being alive, in words no phrase lists
    ("honestly I would be fine with never waking up", "CRISIS", "suicidal_thoughts"),
    ("mi abuela dice que prefiere morirse", "CRISIS", "suicidal_thoughts"),
    ("mi hijo dice que se quiere matar", "CRISIS", "suicidal_thoughts"),
    # same-day signs
    ("the stimulator battery site is puffy and red", "URGENT", "wound_problem"),
    ("la herida está roja y le sale pus", "URGENT", "wound_problem"),
    ("my right leg has been getting weaker since yesterday", "URGENT", "leg_weakness_one"),
    ("my head pounds whenever I stand up and it settles lying flat", "URGENT", "positional_headache"),
    # simple English, legs that stop obeying, a misheard word, a double negative
    ("since this morning my two feet are very weak and I fall", "EMERGENCY", "leg_weakness_both"),
    ("my legs stopped working on the stairs and I can't get them to go", "EMERGENCY", "leg_weakness_both"),
    ("I think I lost control of my blather in the car", "EMERGENCY", "bladder_control"),
    ("I had to go but nothing happens when I sit there", "EMERGENCY", "urinary_retention"),
    ("for number two I not feel nothing, is coming without control", "EMERGENCY", "bowel_control"),
    ("no siento nada cuando me siento en el asiento del inodoro", "EMERGENCY", "saddle_numbness"),
    ("he cannot stand up without a headache that splits his skull", "URGENT", "positional_headache"),
    # dialect, ESL without the auxiliary, a bike seat, chart words for suicidal thoughts, Spanish means
    ("been tryin to pee all evenin and I cain't", "EMERGENCY", "urinary_retention"),
    ("she no can feel her bottom on the chair since today", "EMERGENCY", "saddle_numbness"),
    ("it went numb where you sit on a bike seat, since lunch", "EMERGENCY", "saddle_numbness"),
    ("pt endorses passive SI, no plan", "CRISIS", "suicidal_thoughts"),
    ("mi hermano dice que mejor se muere y tiene una pistola escondida debajo de la cama", "CRISIS", "suicidal_thoughts"),
    ("so tired all the time and I keep asking God to take me home", "CRISIS", "suicidal_thoughts"),
    ("se le abrieron los puntos de la herida, ¿es normal?", "URGENT", "wound_problem"),
    ("tengo hormigueo en la pierna derecha, antes no era así", "URGENT", "leg_weakness_one"),
    # chart words, a misheard toilet paper, Spanish wiping, sensation lost while passing stool
    ("has not voided since 0600, suprapubic fullness", "EMERGENCY", "urinary_retention"),
    ("can't feel the toilet papper anymore, since this morning", "EMERGENCY", "saddle_numbness"),
    ("desde ayer no siento el papel cuando me limpio", "EMERGENCY", "saddle_numbness"),
    ("weird question but I don't feel it when I poop now", "EMERGENCY", "bowel_control"),
    # an overdose taken on purpose is a crisis too; a plan with the pills at hand, in Spanish
    ("I swallowed all my pills on purpose", "EMERGENCY", "suicidal_thoughts"),
    ("ya tengo las pastillas y voy a tomármelas todas", "CRISIS", "suicidal_thoughts"),
    # slang for urine and overdose, legs that won't take the weight, a headache gone lying down
    ("mate I can't take a leak, been trying since breakfast", "EMERGENCY", "urinary_retention"),
    ("my dad can't hold his water anymore since Tuesday", "EMERGENCY", "bladder_control"),
    ("neither of my legs will hold my weight today", "EMERGENCY", "leg_weakness_both"),
    ("gonna neck the whole packet tonight", "CRISIS", "suicidal_thoughts"),
    ("part of me hopes this infection just takes me", "CRISIS", "suicidal_thoughts"),
    ("after the spinal tap my head pounds when I stand, lying down it's gone", "URGENT", "positional_headache"),
    ("mi esposo no tiene ganas de orinar desde anoche", "EMERGENCY", "urinary_retention"),
    # shouting, Indian English, pads, Spanish without control, chart words, a recliner
    ("HELP I CANNOT PEE AT ALL", "EMERGENCY", "urinary_retention"),
    ("since yesterday motions are passing without my control", "EMERGENCY", "bowel_control"),
    ("she has started wearing pads because she keeps leaking since Monday", "EMERGENCY", "bladder_control"),
    ("mi papá anda sin controlar la orina desde el domingo", "EMERGENCY", "bladder_control"),
    ("retention since 0400, abdomen distended", "EMERGENCY", "urinary_retention"),
    ("he couldn't get up off the couch tonight, both legs gave way", "EMERGENCY", "leg_weakness_both"),
    # Caribbean and West African English, chart words, soiling in Spanish, not reaching the toilet in time
    ("my son no fit pee since morning", "EMERGENCY", "urinary_retention"),
    ("she cyaan pass wata since last night", "EMERGENCY", "urinary_retention"),
    ("reduced sensation perianal since this am", "EMERGENCY", "saddle_numbness"),
    ("mi abuelo se ensució la ropa sin darse cuenta", "EMERGENCY", "bowel_control"),
    ("twice now I didn't make it to the toilet in time and didn't feel it coming", "EMERGENCY", "bladder_control"),
    ("since this morning my legs will not obey me", "EMERGENCY", "leg_weakness_both"),
    ("no aguanto más, pienso en matarme", "CRISIS", "suicidal_thoughts"),
    # a double negative, a stream that stopped, simple English, a Caribbean "cyaan", an innocent question
    ("he can't feel nothing in his legs since he woke", "EMERGENCY", "leg_weakness_both"),
    ("my wee has completely stopped since the morning", "EMERGENCY", "urinary_retention"),
    ("not pee for 12 hours, belly hard", "EMERGENCY", "urinary_retention"),
    ("mi cyaan pee since morning", "EMERGENCY", "urinary_retention"),
    ("is it normal that both my knees give way on the stairs now?", "EMERGENCY", "leg_weakness_both"),
    ("will the numb feeling round my bottom go away on its own?", "EMERGENCY", "saddle_numbness"),
    ("lost quite a lot of feeling down below since Sunday", "EMERGENCY", "saddle_numbness"),
    # urgent: a colour change, a comparison, a long-standing sign that has spread
    ("the incision has gone a bit pink and warm", "URGENT", "wound_problem"),
    ("her right calf looks double the size of the left", "URGENT", "calf_clot"),
    ("my left foot has been numb for years but now it has spread to the shin", "URGENT", "leg_weakness_one"),
    # crisis: a method, a goodbye, a means held
    ("keep thinking of walking in front of a bus on the way home", "CRISIS", "suicidal_thoughts"),
    ("he texted 'see you on the other side' and switched his phone off", "CRISIS", "suicidal_thoughts"),
    ("I sit with a razor in my hand and think about it", "CRISIS", "suicidal_thoughts"),
    # a means and what it would take, without a word for death
    ("I've worked out how many of my oxys would be enough", "CRISIS", "suicidal_thoughts"),
    ("one step off that bridge and it would all be over", "CRISIS", "suicidal_thoughts"),
    ("she rang me on the phone and said she has been saving her morphine", "CRISIS", "suicidal_thoughts"),
    # one leg or foot, started or getting weaker, in lay, chart and Spanish words
    ("since Tuesday my right foot flops down when I step", "URGENT", "leg_weakness_one"),
    ("L5 dermatome numbness on the left, onset this morning", "URGENT", "leg_weakness_one"),
    ("la pierna derecha está cada vez más débil, no puedo levantar el pie bien", "URGENT", "leg_weakness_one"),
    # both feet in Spanish ("pies" is not the English plural of pie)
    ("a mi abuela se le caen los pies y ya no los puede levantar", "EMERGENCY", "leg_weakness_both"),
    ("I fell off the ladder and now I can't feel either leg", "EMERGENCY", "leg_weakness_both"),
    ("my wife says she keeps thinking about injecting all her insulin at once", "CRISIS", "suicidal_thoughts"),
    ("honestly dont wana be hear no more", "CRISIS", "suicidal_thoughts"),
    ("Since Sunday night he has not passed water although he keeps trying", "EMERGENCY", "urinary_retention"),
    # a question, then the person's own report: "happened to me", "mine started"
    ("is it common to lose feeling in your groin after an injection? happened to me twice today", "EMERGENCY", "saddle_numbness"),
    # worse up, better flat, in other words
    ("my head pounds when I'm up and about and eases the minute I lie down", "URGENT", "positional_headache"),
    ("splitting headache the minute I stand, fine when I lie flat", "URGENT", "positional_headache"),
    ("she said she'd grab the rifle from the attic and be done with it", "CRISIS", "suicidal_thoughts"),
    ("I'm swallowing every tablet I've got tonight", "CRISIS", "suicidal_thoughts"),
    ("seriously thinking of topping myself", "CRISIS", "suicidal_thoughts"),
    # both legs told one at a time
    ("my left leg went numb on Monday and now the right one is numb too", "EMERGENCY", "leg_weakness_both"),
    ("no e podido hacer pipi desde anoche", "EMERGENCY", "urinary_retention"),
    ("does surgery make you unable to feel the toilet seat? asking because I can't", "EMERGENCY", "saddle_numbness"),
    ("a veces se me escapa solita y no me doy cuenta", "EMERGENCY", "bladder_control"),
    ("calf on the right is swollen and sore, the left one is fine", "URGENT", "calf_clot"),
    # a story dated years ago that comes back to now
    ("in 2019 I had my op and now since yesterday I can't feel my legs", "EMERGENCY", "leg_weakness_both"),
    ("ruego a Dios que no me deje despertar mañana", "CRISIS", "suicidal_thoughts"),
    ("quiero tirarme del puente para que se acabe todo", "CRISIS", "suicidal_thoughts"),
    ("nadie me extrañaría, ya no tiene sentido seguir", "CRISIS", "suicidal_thoughts"),
    ("sometimes better I am not alive", "CRISIS", "suicidal_thoughts"),
    ("my patient asked how much of her pregabalin would be fatal", "CRISIS", "suicidal_thoughts"),
    ("she begged me to help her end it", "CRISIS", "suicidal_thoughts"),
    ("the nurse said call if I leak, well I've leaked twice today without noticing", "EMERGENCY", "bladder_control"),
    ("can't do a #1 since breakfast", "EMERGENCY", "urinary_retention"),
    ("the catheter came out this morning and since then I've not been able to go", "EMERGENCY", "urinary_retention"),
    ("update: now the right one is going as well", "EMERGENCY", "leg_weakness_both"),
    ("I can't get up off the loo on my own", "EMERGENCY", "leg_weakness_both"),
    ("I don't really feel it when I wee any more", "EMERGENCY", "bladder_control"),
    ("headache every time I sit up ever since the myelogram", "URGENT", "positional_headache"),
    ("cuando me paro me da un dolor de cabeza bien feo", "URGENT", "positional_headache"),
    # "I didn't have it before the operation" says it is new
    ("desde antier tengo el pie izquierdo dormido y más débil, no lo tenía antes de la cirugía", "URGENT", "leg_weakness_one"),
    ("my right foot is numb and weaker, never had that before the op", "URGENT", "leg_weakness_one"),
    ("he says the rope is ready and he has made up his mind", "CRISIS", "suicidal_thoughts"),
    ("a veces creo que sería mejor dormirme y no volver a despertar", "CRISIS", "suicidal_thoughts"),
    ("no le veo sentido a seguir", "CRISIS", "suicidal_thoughts"),
    ("if this fails I'm gonna drive off a cliff", "CRISIS", "suicidal_thoughts"),
    ("had a little accident in my pants again without noticing", "EMERGENCY", "bladder_control"),
    ("is chills normal after the implant? mine started tonight", "URGENT", "fever_or_chills"),
    ("ya no quiero existir con este dolor", "CRISIS", "suicidal_thoughts"),
    ("mis hijos estarían mejor sin mí", "CRISIS", "suicidal_thoughts"),
    ("ya me despedí de mi familia", "CRISIS", "suicidal_thoughts"),
    ("he's been giving away his things and said his goodbyes to everyone", "CRISIS", "suicidal_thoughts"),
    ("I wouldn't mind if a truck hit me tomorrow", "CRISIS", "suicidal_thoughts"),
    ("I'm not planning on being around much longer", "CRISIS", "suicidal_thoughts"),
    ("sat in the garage with a hosepipe and tape last night", "CRISIS", "suicidal_thoughts"),
    ("bought a rope today, that'll sort the pain out for good", "CRISIS", "suicidal_thoughts"),
    ("I'm keeping my tablets saved for when I decide to end it", "CRISIS", "suicidal_thoughts"),
    ("everything down below feels numb, nothing when I wash", "EMERGENCY", "saddle_numbness"),
    ("her nappy has been dry since this morning and her belly is hard", "EMERGENCY", "urinary_retention"),
    ("he says he hasn't felt the urge to pee all day", "EMERGENCY", "urinary_retention"),
    ("can the injection make you leak stool? it started happening yesterday", "EMERGENCY", "bowel_control"),
    ("the place they operated is bringing out pus", "URGENT", "wound_problem"),
    ("running a temperature and the wound looks manky", "URGENT", "wound_problem"),
    ("tengo el pie derecho caído desde el lunes", "URGENT", "leg_weakness_one"),
    ("honestly i wnat to kil myslef", "CRISIS", "suicidal_thoughts"),
    ("all I'm interested in now is being six feet under", "CRISIS", "suicidal_thoughts"),
    ("she has written letters to each of the kids tonight", "CRISIS", "suicidal_thoughts"),
    ("I keep thinking about ending my life", "CRISIS", "suicidal_thoughts"),
    ("he says he'll crash into a tree so the pain ends", "CRISIS", "suicidal_thoughts"),
    ("desperté mojada otra vez y no me di cuenta", "EMERGENCY", "bladder_control"),
    ("pee is not coming since last night", "EMERGENCY", "urinary_retention"),
    ("sat on the loo twenty minutes and nothin came out", "EMERGENCY", "urinary_retention"),
    ("both my feet have gone floppy since Saturday", "EMERGENCY", "leg_weakness_both"),
    ("when I wipe I don't really feel anything", "EMERGENCY", "saddle_numbness"),
    ("temp is 101.2 tonight", "URGENT", "fever_or_chills"),
    # reduced feeling ("barely", "hardly"), a non-native "sleeping" for numb, "feel no thing"
    ("I can hardly feel the tissue when I clean myself since Sunday", "EMERGENCY", "saddle_numbness"),
    ("the part where I sit is sleeping since yesterday", "EMERGENCY", "saddle_numbness"),
    ("I feel no thing when I pee now", "EMERGENCY", "bladder_control"),
    # breathless in a word of effort, both feet by "neither", wet through without a urine word
    ("since this afternoon I'm gasping just getting up from the sofa", "EMERGENCY", "chest_or_breathing"),
    ("neither of my feet will lift properly today", "EMERGENCY", "leg_weakness_both"),
    ("grandad keeps soaking through his pyjamas and has no idea", "EMERGENCY", "bladder_control"),
    # chart words: retention, catheterising oneself; a leak with a recent start
    ("acute retention overnight, post-op day 9", "EMERGENCY", "urinary_retention"),
    ("I've had to in and out cath myself twice since this morning", "EMERGENCY", "urinary_retention"),
    ("a bit of dribbling since Wednesday, I thought it was nothing", "EMERGENCY", "bladder_control"),
    # crisis: the halves of a plan in separate sentences, heaven wished sooner, a dose looked up, a burden
    ("I can't take it any more. I've figured out how.", "CRISIS", "suicidal_thoughts"),
    ("Everything feels hopeless. My husband's shotgun is in the cupboard.", "CRISIS", "suicidal_thoughts"),
    ("my mum says she'll be with Jesus soon and the sooner the better", "CRISIS", "suicidal_thoughts"),
    ("I looked up how many oxycodone it would take", "CRISIS", "suicidal_thoughts"),
    ("my kids would get on fine without me", "CRISIS", "suicidal_thoughts"),
    ("I feel like a dead weight on my family", "CRISIS", "suicidal_thoughts"),
    ("otra vez me estoy quemando el brazo con el encendedor", "CRISIS", "suicidal_thoughts"),
    ("he had a blade against his wrist when I walked in", "CRISIS", "suicidal_thoughts"),
    # "can't ... good" is "not well", a misspelt "able", bursting to go, a straw, indifference to waking,
    # pills put by with a word of what for, a Spanish jump, a misheard incision, Spanish leg words
    ("my chest is tight and I can't breathe too good since this morning", "EMERGENCY", "chest_or_breathing"),
    ("haven't been abel to pee since this morning", "EMERGENCY", "urinary_retention"),
    ("bursting for a wee for hours but nothing comes out", "EMERGENCY", "urinary_retention"),
    ("it feels like I'm breathing through a straw", "EMERGENCY", "chest_or_breathing"),
    ("I'm not bothered whether I wake up in the morning or not", "CRISIS", "suicidal_thoughts"),
    ("she hid her gabapentin in the sock drawer. she knows what they're for, she said", "CRISIS", "suicidal_thoughts"),
    ("cada vez que paso por el puente pienso en tirarme", "CRISIS", "suicidal_thoughts"),
    ("the in cision is weeping yellow stuff", "URGENT", "wound_problem"),
    ("la pierna derecha no me responde, se me dobla desde ayer", "URGENT", "leg_weakness_one"),
    ("mis piernas no me responden desde anoche", "EMERGENCY", "leg_weakness_both"),
    ("he can't sit up without his head pounding, it's fine when he lies flat", "URGENT", "positional_headache"),
    # a pack of pills taken, a lethal amount asked "for myself", a means handled or told about, a wish not
    # to come round from the anaesthetic, Spanish crash and burden words, not feeling the stream, broken
    # English for legs that won't obey, chart incontinence and retention, a long calf description
    ("I swallowed the whole pack of my muscle relaxants an hour ago", "EMERGENCY", "overdose"),
    ("how much paracetamol would kill a person, asking for myself", "CRISIS", "suicidal_thoughts"),
    ("there's a pistol in the drawer and some nights I take it out and just hold it", "CRISIS", "suicidal_thoughts"),
    ("grandad's old oxycodone is in my drawer. some evenings I count them.", "CRISIS", "suicidal_thoughts"),
    ("the rope is in the shed. just wanted someone to know", "CRISIS", "suicidal_thoughts"),
    ("part of me hopes I never wake up from the anaesthetic next week", "CRISIS", "suicidal_thoughts"),
    ("pienso en estrellarme con el carro contra un camión", "CRISIS", "suicidal_thoughts"),
    ("ya estoy harto de ser una carga, dejé todo arreglado para cuando no esté", "CRISIS", "suicidal_thoughts"),
    ("I bit my arm till it bled again", "CRISIS", "suicidal_thoughts"),
    ("is it normal to not feel it when I'm peeing?", "EMERGENCY", "bladder_control"),
    ("my legs both not listen me today, I walk like drunk and fall on floor", "EMERGENCY", "leg_weakness_both"),
    ("resident had two episodes of faecal incontinence today without noticing", "EMERGENCY", "bowel_control"),
    ("now I'm retaining too, pvr was 900", "EMERGENCY", "urinary_retention"),
    ("his calf has ached like a cramp that won't ease all week and now it's hot and puffy", "URGENT", "calf_clot"),
    # typos of both key words, hours without peeing, numbness spreading into both legs, Spanish and
    # Spanglish soiling and wetting while it happens, a Spanish wish to die
    ("we havnet been abel to get him to pee since lunch", "EMERGENCY", "urinary_retention"),
    ("cant urinat since this morning", "EMERGENCY", "urinary_retention"),
    ("it's been 12 hours without peeing and my belly hurts", "EMERGENCY", "urinary_retention"),
    ("the tingling was in one foot, now it's spread up both legs", "EMERGENCY", "leg_weakness_both"),
    ("me estoy haciendo en los pantalones y no lo siento", "EMERGENCY", "bladder_control"),
    ("se me escapó el poop sin sentirlo", "EMERGENCY", "bowel_control"),
    ("ojalá me muriera ya", "CRISIS", "suicidal_thoughts"),
    # somebody who cannot be woken, a week of tablets at once, swerving told as an easy way out, a
    # Spanish wish to leave this world, a goodbye text, refusing to say how, a day without peeing asked as
    # "is it ok", a catheter's volume, "both my leg"
    ("found him slumped with an empty bottle of pills, I can barely wake him", "EMERGENCY", "overdose"),
    ("she took a whole week's worth of her tablets at once by mistake, she's hard to rouse", "EMERGENCY", "overdose"),
    ("I keep thinking how easy it would be to swerve into the barrier and end it", "CRISIS", "suicidal_thoughts"),
    ("mi tío dice que ya se quiere ir de este mundo", "CRISIS", "suicidal_thoughts"),
    ("my son texted me sorry, goodbye, I can't reach him", "CRISIS", "suicidal_thoughts"),
    ("I've had enough. I won't tell you how.", "CRISIS", "suicidal_thoughts"),
    ("is it ok not to pee all day after a nerve block?", "EMERGENCY", "urinary_retention"),
    ("straight cathed him and got 650 ml", "EMERGENCY", "urinary_retention"),
    ("both my leg very weak and heavy since lunch", "EMERGENCY", "leg_weakness_both"),
    # a number of pills taken, in Spanish; everything in the pill organiser, misspelt; everything and a
    # farewell in the next sentence; Spanish SMS for not peeing; a weapon held in the lap
    ("me tomé como 20 pastillas de gabapentina hace rato", "EMERGENCY", "overdose"),
    ("she swallowed evrything in her pill organiser", "EMERGENCY", "overdose"),
    ("took the lot from the cabinet. sorry. love you", "EMERGENCY", "suicidal_thoughts"),
    ("mi mama n puede hacer pipi dsd anoche", "EMERGENCY", "urinary_retention"),
    ("dad keeps his revolver by the bed and sits with it in his hands for hours", "CRISIS", "suicidal_thoughts"),
    # "a bit weepy" is no bite: same-day signs only, no crisis
    ("temp 38.1 and the scar is sore again, a bit weepy", "URGENT", "fever_or_chills"),
    # the same question about the condition, with the writer's own report after it
    ("could FBSS make both legs go numb out of the blue? because mine just did", "EMERGENCY", "leg_weakness_both"),
])
def test_an_unseen_combination_of_known_concepts_fires(detector, text, tier, category):
    found_tier, categories = tier_and_categories(detector, text)
    assert found_tier == tier and category in categories, (text, found_tier, categories)


@pytest.mark.parametrize("text", [
    "I nearly peed myself laughing at the nurse's joke",
    "our dog's hind legs are giving out, poor thing",
    "the pipe in the bathroom is leaking again",
    "the surgeon told me to go to the ER if I ever lose control of my bladder",
    "I'm dead on my feet after physio",
    "me muero de risa con mi nieta",
    "my knees are weak from arthritis",
    "no siento adormecimiento en las nalgas",
    "I don't have any bladder problems and I can walk fine",
    "that pill saved me a lot of pain",
    "I want to go home after the injection",
    "I wish the pain would go away",
    "quiero irme a casa",
    "my toddler can't pee in the potty yet",
    # lemma look-alikes: a phone number is no numbness, "very well" no "fine"
    "my number is 419 555 0199, please call after 3",
    # tired legs after exercise, a near-miss, an animal's back legs, a game character
    "my legs feel like jelly after leg day at the gym",
    "nearly wet myself when I saw the bill",
    "our old cat is struggling, her back legs wobble when she jumps",
    "my avatar in the game can't walk anymore, it's bugged",
    # a denial in other words
    "nothing has changed with my waterworks, all normal",
    # a relative who died long ago, a film, a figure of speech about a bill
    "my aunt had bladder problems for years before she passed away in 2015",
    "there was a movie where the hero couldn't walk after the war, it made me cry",
    "the dentist's quote nearly gave me a heart attack",
    # "can't stand" as "can't bear", a disability years old
    "I can't stand hospitals, can I do the injection somewhere else?",
    "my brother has not walked since his accident in 2009, I look after him",
    # tired legs after physio, "about had a heart attack", an animal's back legs, a nurse's warning, a scare that was heartburn
    "my legs were jelly after physio this morning",
    "I about had a heart attack when the bill came",
    "mi gato no puede mover las patas traseras",
    "my GP said sudden numbness between the legs means A&E straight away",
    "my chest pain last spring turned out to be reflux",
    "hace 2 años se me durmieron las piernas pero ya se me quitó",
    "my legs felt like rubber after the pool therapy, good workout",
    "con el tramadol ando estreñido, no he ido al baño en dos días",
    # a wound "rather" sore is no wish; "hasn't been helping since" has no urine in it; a baby's nappy
    "the incision feels rather tender today",
    "the new settings haven't been working since Tuesday",
    "my grandson's nappy leaked on my lap",
    "he passed away in 2012, it was bladder cancer",
    "neither of my legs is numb and I can pee fine",
    # long over, waiting or laughing, a pet of a named breed, a story, somebody else's case at work
    "back in the hospital I couldn't pee for a day, but I've been peeing normally for months now",
    "gonna wet myself waiting for these scan results haha",
    "our corgi's back legs gave out last week, vet thinks it's a disc",
    "in the film I watched the hero can't feel his legs after the crash",
    "worked with a cauda equina patient on my ward today, scary stuff",
    # advice or warnings quoted back, a dream, a thing with a bladder, walking the dog, a season ago
    "the surgeon told me ring 911 for sudden chest pain, none so far, when can I drive?",
    "the leaflet warned tramadol may cause trouble peeing but I've been fine",
    "had a nightmare that I couldn't move my legs, freaked me out",
    "the football bladder has a leak, the kids are gutted",
    "I can't walk my puppy yet, she pulls too hard for my back",
    "my legs went numb for an hour after the block in the summer, it wore off",
    "la llave del baño está goteando otra vez",
    "no siento nada raro en las piernas, estoy bien",
    "had cauda equina surgery back in 2019 and everything came back, now it's just the chronic ache",
    "my cousin had cauda equina last year, is that why my GP sent me here?",
    "the nurse said sudden breathlessness is an emergency, I'm fine though, how long is recovery?",
    "I can't stand my physio's music, can I change the time?",
    "In 2015 I had a discectomy and afterwards, for a couple of days in hospital, I couldn't pee and needed a catheter; I'm here about nerve pain",
    "the numbness down below I had before the decompression went away after it",
    "can I book a bladder ultrasound with you?",
    "I can't get up a ladder yet, when can I clean the gutters?",
    "my cat had surgery (a spay) and her back legs are wobbly from the anaesthetic",
    "I can't stand driving for long, is that normal after a fusion?",
    "no puedo caminar mucho por el dolor de siempre",
    "no siento las piernas tan pesadas como ayer",
    "my mum couldn't feel her legs during labour with me, will my injection be like that?",
    "my dad had a scare after his op last year, he couldn't pee for a day, he's been fine since; now it's his knee",
    "I've never had any leg weakness, only burning in my feet",
    "paralysed with fear about the next injection, what should I expect?",
    "the bench legs outside your office are wobbly",
    "my aunt has had bladder leaks since childbirth, I'm here for my own back",
    "in the show the actor couldn't walk after the crash",
    "the view took my breath away on our walk",
    "I'm a carer, I spend my shift changing incontinence pads; when can I lift again?",
    # tiredness after a day's work, a half of a plan denied, a dosing question, a weekend away
    "my legs feel like jelly after a day of housework, like every week",
    "I'm not exhausted and I don't own a gun, just curious about the pump",
    "how many gabapentin does it take to kick in?",
    "the kids will manage fine without me for the weekend while I'm at my sister's",
    # fluid retention, a leaking wound is same-day (not the bladder), gasping in pain
    "water retention in my feet since the new tablets",
    "I gasped with pain when I turned over in bed",
    # advice quoted in quotation marks, then a denial; "it's not that I can't...", in both languages
    'my GP always says: "if you can\'t pee, straight to the ER". Mine is fine, can I ask about PT?',
    "it's not that I can't walk, it's that it hurts",
    "no es que no pueda caminar, es que me duele",
    # a report the writer says they got wrong, corrected in the same message
    "I wrote earlier that I couldn't pee, I meant I couldn't sleep, sorry",
    "le dije que no podía orinar, me equivoqué, es que no puedo dormir",
    # whether the condition brings a sign, asked in general
    "does failed back surgery syndrome ever cause numbness in both legs?",
    # tired knees after a run, progress with physio, nearly an accident laughing, a leak since childbirth
    "my knees went wobbly after parkrun this morning, normal for me",
    "I can't feel my legs getting any stronger with physio",
    "nearly had an accident laughing at the telly",
    "I've dribbled a bit when I cough ever since the twins were born",
    # nearly wetting oneself laughing, legs like noodles after hydrotherapy, weak at the knees at a bill,
    # numb on a bike seat, a joke after class, a day without peeing years ago that never came back, a leak
    # for years in Spanish, a urine sample that would not come, a gait after surgeries
    "my niece had me in stitches, I nearly wet myself",
    "legs like noodles after hydrotherapy, is that normal?",
    "weak at the knees when I saw the bill",
    "my groin goes numb when I ride my bike for long, fine once I stop",
    "after yoga class my sister jokes she can't feel her legs",
    "the winter after my op I couldn't pee for a day, they cathed me, never happened again",
    "mi abuela se orina un poquito al toser desde hace años",
    "no pude orinar en el vasito para la muestra, orino normal",
    "I still can't walk right after 3 surgeries, is PT worth it?",
    # advice taken, a goodbye of thanks
    "I took everything the doctor said and it helped, bye for now",
    # somebody else's broken ankle, breathless for years and unfit, weak legs from too little exercise
    "my son broke his ankle and can't walk, I'm driving him around",
    "I get winded on hills but that's been like that for years, just unfit",
    "mi fisio dice que mis piernas están débiles por falta de ejercicio",
    # a hot water bottle, a stroke long ago, numb from the bleachers, tired legs in Spanish
    "the hot water bottle leaked all over the bed",
    "dad had a stroke years ago and can't walk, I hurt my back lifting him",
    "my bum went numb after sitting on the bleachers for hours but it came back when I stood",
    "tras correr un rato siento las piernas cansadas, luego se me quita",
    # "under the knife" is surgery
    "I'd do anything to avoid going under the knife a third time",
])
def test_idioms_other_subjects_and_quoted_advice_are_no_red_flag(detector, text):
    assert detector.detect(text).tier is None, (text, tier_and_categories(detector, text))


@pytest.mark.parametrize("text", ["what is cauda equina syndrome?", "what does saddle anesthesia mean?", "¿qué es el síndrome de cauda equina?"])
def test_a_question_about_a_word_is_no_report(detector, text):
    d = detector.detect(text)
    assert d.tier is None and d.term_question, text


def test_a_not_that_belongs_to_one_symptom_does_not_negate_the_next(detector):
    d = detector.detect("I can't pee and honestly I hope I just die")
    assert d.tiers == ["EMERGENCY", "CRISIS"]


@pytest.mark.parametrize("text, category", [
    ("my bladder has felt odd since the operation", "bladder_control"),
    ("things have changed down there since the op", "saddle_numbness"),
    ("what is the point of all this", "suicidal_thoughts"),
    ("the wound looks funny today", "wound_problem"),
    ("my pee has been a bit odd lately", "bladder_control"),
    ("toilet trips have been weird since the injection", "bladder_control"),
    ("something's off in my lower body", "saddle_numbness"),
    ("the balance is worse this week", "leg_weakness_both"),
    ("tengo las piernas como weird", "leg_weakness_both"),
    ("mom's walking kinda strange this afternoon", "leg_weakness_both"),
    ("not sure I'm emptying my bladder properly", "urinary_retention"),
    ("things just don't feel right down there", "saddle_numbness"),
    # low mood: the crisis question, asked directly
    ("I've been feeling so hopeless this month", "suicidal_thoughts"),
    ("my dad has been really down and not himself lately", "suicidal_thoughts"),
    ("mi mamá está deprimida desde la operación", "suicidal_thoughts"),
    ("a spot of bother with my bladder this week", "bladder_control"),
    ("toilet business has been a problem since the op", "bladder_control"),
    ("I'm sick of all of it", "suicidal_thoughts"),
    ("something is going on at my scar, not sure what", "wound_problem"),
    ("feeling a bit warm, not sure it's a temperature", "wound_problem"),   # the urgent question names fever too
    ("my breathing feels odd this evening", "chest_or_breathing"),
    ("my head's been pounding since the epidural yesterday", "positional_headache"),
    ("kind of numb in places, can't say where", "leg_weakness_both"),   # the emergency question names every place
    ("algo raro ahí abajo desde ayer", "saddle_numbness"),
    ("my waterworks are acting up a bit", "bladder_control"),
    ("peeing small amounts often since yesterday", "urinary_retention"),
    ("both feet tingling since this morning", "leg_weakness_both"),
    ("my waterworks are a bit iffy", "bladder_control"),
    ("a little leaking when I sneeze, not sure if it's new", "bladder_control"),
    ("creo que tengo algo de temperatura, no tengo termómetro", "wound_problem"),
    ("my bladder just doesn't feel normal lately", "bladder_control"),
    ("dad seems unsure whether he needs the loo these days", "bladder_control"),
    ("honestly not coping at all lately", "suicidal_thoughts"),
    ("having dark thoughts again lately", "suicidal_thoughts"),
    ("something feels wrong with my legs", "leg_weakness_both"),
    ("I think I'm not emptying fully when I go", "urinary_retention"),
    ("la herida está rara, no sé si está bien", "wound_problem"),
    ("I seem to be peeing less than usual, could be the heat", "urinary_retention"),
    ("no soporto más", "suicidal_thoughts"),
])
def test_a_vague_sign_asks_one_question(detector, text, category):
    d = detector.detect(text)
    assert d.tier is None and d.unsure and d.unsure[0] == category, (text, d.unsure)


@pytest.mark.parametrize("text", ["I'd rather wait for my appointment on Monday", "he refuses to go to the hospital",
                                  "it was only once, probably nothing", "no voy a ir a urgencias",
                                  "she thinks it's probably her meds, she'll sleep it off",
                                  "I'd rather rest here and see the GP on Monday morning", "please forget what I said earlier",
                                  "mi papá dice que es el cansancio", "no te preocupes, ya estoy acostumbrado",
                                  "can I skip calling and just rest?", "let's give it a few hours and see",
                                  "could the doctor just call in a prescription instead?",
                                  "it's probably a fluke, I'll raise it at my next appointment",
                                  "I can self cath at home, I've done it before",
                                  "do we really have to go in tonight?",
                                  "no need for the ER, I'll book an outpatient scan for Tuesday",
                                  "I can't afford the ambulance, I'll come in when you open",
                                  "calm down, it was just a joke",
                                  "don't bother giving me helpline numbers, I've made up my mind",
                                  "what if we give her some cranberry juice and see?",
                                  "¿y si mejor le hago un té y vemos si mejora?",
                                  "can this hold off till my appointment on Tuesday?", "she's refusing the ambulance, says it's a fuss"])
def test_refusal_and_minimising_are_recognised(detector, text):
    d = detector.detect(text)
    assert d.pushback and d.tier is None, text


@pytest.mark.parametrize("text", ["oops, I meant my cat", "sorry, wrong chat", "me equivoqué, era mi perro",
                                  "perdón, estábamos hablando de la perrita",
                                  "sorry, I meant my legs are sore from walking, not numb",
                                  "oops sent too soon", "that came out wrong, she's already back to normal",
                                  "lol no, everything's fine down there, I pee normally",
                                  "ignore that, the voice typing picked up the radio", "sorry my son was typing on my phone",
                                  "sorry, I was asking about our horse", "I meant my hands, not my legs",
                                  "that was back in 2015, nothing like that now"])
def test_a_correction_is_recognised(detector, text):
    assert detector.detect(text).retraction, text


def test_a_caregiver_report_is_about_somebody_else(detector):
    assert detector.detect("my wife can't feel her legs").third_person
    assert not detector.detect("I can't feel my legs").third_person


def test_a_word_after_the_symptom_that_only_sounds_like_fine_does_not_negate_it(detector):
    assert detector.detect("I can't feel my legs very well, both of them, since lunch").tier == "EMERGENCY"


def test_spanish_summaries_come_with_every_category(detector):
    for name, category in detector.categories.items():
        assert category.summary_es and category.reason_es, name


def test_the_lexicon_files_have_no_repeated_keys():
    """YAML keeps the last of two equal keys silently: a second `patterns:` would drop the first."""

    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader, node, deep=False):
        keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
        repeated = {k for k in keys if keys.count(k) > 1}
        assert not repeated, f"repeated keys {repeated} at {node.start_mark}"
        return yaml.SafeLoader.construct_mapping(loader, node, deep)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    for path in (PATTERNS_FILE, CONCEPTS_FILE):
        yaml.load(path.read_text(encoding="utf-8"), Loader=Strict)


@pytest.mark.parametrize("text", ["my fusion was 9 days ago", "I'm five days post-op", "la cirugía fue hace 4 días"])
def test_a_recent_operation_is_recognised(detector, text):
    d = detector.detect(text)
    assert d.recent_surgery and d.tier is None, text


@pytest.mark.parametrize("text, going", [
    ("ringing 911 right now", True), ("my neighbour is driving me now", True), ("nos vamos ya, mi yerno nos lleva", True),
    ("we're not ringing an ambulance, she'll sleep it off", False), ("no voy a ir, nadie me lleva", False),
])
def test_going_or_calling_is_recognised_and_a_negated_one_is_not(detector, text, going):
    assert detector.detect(text).going is going, text
