"""The phrase bank the demo's verbatims are built from.

Each theme has positive and negative clauses written the way customers write (first person,
uneven, sometimes terse). ``demo.generator`` picks themes from a response's best and worst
ratings, so the words agree with the scores: a detractor who rated wait time 1 complains
about waiting. Clauses are combined with openers, joiners and closers for variety.

``esim`` is deliberately absent from the driver list and uses none of the default
taxonomy's keywords: it is the *emerging theme* planted for theme discovery (see
``demo.generator.PLANTED_TRUTHS``).
"""

from __future__ import annotations

from pathlib import Path

POSITIVE = "positive"
NEGATIVE = "negative"

THEMES: dict[str, dict[str, list[str]]] = {
    "staff": {
        POSITIVE: [
            "the agent was really friendly and patient with me",
            "staff were polite and welcoming",
            "the lady on the phone was lovely",
            "the advisor was helpful and genuinely cared",
            "everyone I dealt with was courteous",
            "the engineer was friendly and tidy",
            "your team member went out of her way to help",
            "the person I spoke to was very kind",
        ],
        NEGATIVE: [
            "the agent was rude and dismissive",
            "staff were unfriendly and clearly did not care",
            "the advisor was condescending",
            "the guy on the phone was impatient and cut me off",
            "nobody bothered to greet me",
            "the staff member was arrogant",
            "I was treated like a nuisance",
            "the person I spoke to was unhelpful",
        ],
    },
    "wait_time": {
        POSITIVE: [
            "I got through in under a minute",
            "no waiting at all",
            "the call was answered straight away",
            "hardly any queue",
            "quick to answer",
            "I was served within minutes",
        ],
        NEGATIVE: [
            "I waited 45 minutes on hold",
            "the queue was endless",
            "on hold for over an hour before anyone answered",
            "the waiting time is ridiculous",
            "I was kept waiting far too long",
            "waited forever listening to the same music",
            "it took ages to get through",
            "I gave up after 30 minutes in the queue",
        ],
    },
    "resolution": {
        POSITIVE: [
            "my problem was fixed first time",
            "the issue was resolved on the first call",
            "they sorted it out there and then",
            "everything was solved in one go",
            "they went above and beyond to fix it",
            "the problem was resolved quickly",
        ],
        NEGATIVE: [
            "my issue is still not resolved",
            "I had to call three times and it is still not fixed",
            "I was passed around between departments",
            "nobody could solve my problem",
            "they closed my complaint without fixing anything",
            "I got nowhere and had to call again",
            "I was transferred four times and the problem remains",
        ],
    },
    "billing": {
        POSITIVE: [
            "the bill is clear and easy to understand",
            "billing was accurate",
            "the invoice was exactly what I expected",
            "the refund arrived quickly",
            "payments are straightforward",
        ],
        NEGATIVE: [
            "I was overcharged on my bill",
            "the invoice is confusing",
            "I was billed twice this month",
            "there are charges on my bill nobody can explain",
            "still waiting for my refund",
            "the direct debit was taken on the wrong date",
            "the bill was wrong again",
        ],
    },
    "price_value": {
        POSITIVE: [
            "good value for money",
            "the price is fair for what you get",
            "cheaper than the competition",
            "the new plan is great value",
            "reasonable prices",
        ],
        NEGATIVE: [
            "far too expensive",
            "the price went up again for no reason",
            "poor value for money",
            "I pay more than new customers do",
            "overpriced for what it is",
            "the price increase is not justified",
        ],
    },
    "website_app": {
        POSITIVE: [
            "the app is easy to use",
            "the website is quick and clear",
            "I could do everything online in a few clicks",
            "the new app update is great",
            "logging in to my account is simple",
        ],
        NEGATIVE: [
            "the app keeps crashing",
            "the website is impossible to navigate",
            "I could not log in to my account",
            "the app is slow and buggy",
            "the online form kept giving an error",
            "the website timed out at payment",
        ],
    },
    "delivery": {
        POSITIVE: [
            "delivery was quick",
            "it arrived the next day",
            "the courier was on time",
            "delivered exactly when promised",
            "the parcel arrived well packaged",
        ],
        NEGATIVE: [
            "the delivery was late",
            "my parcel never arrived",
            "the courier did not turn up",
            "it arrived damaged",
            "delivery took two weeks instead of two days",
            "I waited in all day and nobody came",
        ],
    },
    "product_quality": {
        POSITIVE: [
            "the product works perfectly",
            "great quality",
            "the device is excellent",
            "really reliable product",
            "the quality is better than I expected",
        ],
        NEGATIVE: [
            "the product stopped working after a week",
            "poor quality",
            "the device is faulty",
            "it broke almost immediately",
            "the quality has gone downhill",
        ],
    },
    "communication": {
        POSITIVE: [
            "I was kept informed all the way",
            "they called back when promised",
            "clear updates by text and e-mail",
            "communication was excellent",
            "they explained every step",
        ],
        NEGATIVE: [
            "nobody called me back",
            "I never heard back after my e-mail",
            "no updates at all",
            "I had to chase them for information",
            "the letters contradict what the agent said",
            "they promised a call back that never came",
        ],
    },
    "knowledge": {
        POSITIVE: [
            "the advisor really knew the product",
            "very knowledgeable staff",
            "the explanation was clear and competent",
            "good advice",
        ],
        NEGATIVE: [
            "the agent had no idea what he was talking about",
            "I got conflicting information",
            "staff were clueless",
            "they gave me the wrong information",
        ],
    },
    "cleanliness": {
        POSITIVE: [
            "the store was spotless",
            "clean and tidy shop",
            "the engineer cleaned up after the work",
        ],
        NEGATIVE: [
            "the store was dirty",
            "the toilets were filthy",
            "the engineer left a mess behind",
        ],
    },
    "coverage": {
        POSITIVE: [
            "signal is strong everywhere now",
            "the 5G coverage in my area is excellent",
            "no more dropped connections at home",
        ],
        NEGATIVE: [
            "the signal keeps dropping at home",
            "no 5G coverage in my area despite the promises",
            "the connection drops every evening",
            "dead zones all over town",
            "my mobile signal is terrible indoors",
        ],
    },
    "esim": {
        POSITIVE: [
            "eSIM activation was instant",
            "switching to eSIM took two minutes",
            "the eSIM QR code worked first go",
        ],
        NEGATIVE: [
            "eSIM activation failed twice",
            "the eSIM QR code was rejected",
            "my eSIM swap took three days",
            "still no eSIM profile on my watch",
            "the eSIM transfer to my new handset failed",
            "eSIM activation code expired before I could use it",
        ],
    },
}

GENERIC: dict[str, list[str]] = {
    POSITIVE: ["Great.", "All good.", "Very happy.", "Excellent, thank you.", "No complaints."],
    NEGATIVE: ["Terrible.", "Not happy.", "Disappointing.", "Awful experience.", "Very poor."],
    "neutral": ["OK.", "Fine.", "Nothing special.", "It was alright.", "Average."],
}

OPENERS: dict[str, list[str]] = {
    POSITIVE: ["", "", "", "Honestly, ", "Really impressed: ", "Overall ", "As always, "],
    NEGATIVE: ["", "", "", "Honestly, ", "Very disappointed: ", "Once again ", "Frankly "],
}

CLOSERS: dict[str, list[str]] = {
    POSITIVE: ["", "", "", " Thank you!", " Keep it up.", " Would recommend.", " Thanks."],
    NEGATIVE: [
        "",
        "",
        "",
        " Not good enough.",
        " I am thinking of leaving.",
        " Would not recommend.",
        " Sort it out.",
    ],
}

SAME_POLARITY_JOINERS = [" and ", ", and ", ". Also ", "; "]
MIXED_JOINERS = [", but ", ". However ", ", although ", " but "]

# A short bank in other languages: (positive, negative) clauses per language.
FOREIGN: dict[str, dict[str, list[str]]] = {
    "fr": {
        POSITIVE: [
            "Le conseiller était très aimable et a résolu mon problème rapidement.",
            "Très bon service, je recommande.",
            "Livraison rapide et produit de qualité.",
            "L'application est simple et pratique.",
        ],
        NEGATIVE: [
            "J'ai attendu plus d'une heure au téléphone, c'est inadmissible.",
            "La facture est incompréhensible et trop chère.",
            "Personne ne m'a rappelé, très déçu.",
            "Le colis est arrivé en retard et abîmé.",
        ],
    },
    "de": {
        POSITIVE: [
            "Der Mitarbeiter war sehr freundlich und kompetent.",
            "Schnelle Lieferung, alles bestens.",
            "Die App ist einfach zu bedienen.",
            "Super Service, vielen Dank.",
        ],
        NEGATIVE: [
            "Ich habe eine Stunde in der Warteschleife gewartet.",
            "Die Rechnung ist falsch und niemand hilft mir.",
            "Viel zu teuer für diese Qualität.",
            "Niemand hat mich zurückgerufen, sehr enttäuschend.",
        ],
    },
    "es": {
        POSITIVE: [
            "El agente fue muy amable y resolvió todo.",
            "Buen servicio y entrega rápida.",
            "La aplicación funciona muy bien.",
            "Excelente atención, gracias.",
        ],
        NEGATIVE: [
            "Esperé más de una hora para hablar con alguien.",
            "La factura es confusa y me cobraron de más.",
            "Nadie me devolvió la llamada, muy decepcionado.",
            "El pedido llegó tarde y roto.",
        ],
    },
    "nl": {
        POSITIVE: [
            "De medewerker was erg vriendelijk en behulpzaam.",
            "Snelle levering, prima service.",
            "De app werkt heel makkelijk.",
            "Goed geholpen, dank jullie wel.",
        ],
        NEGATIVE: [
            "Ik heb een uur in de wacht gestaan.",
            "De rekening klopt niet en niemand kan het uitleggen.",
            "Veel te duur voor wat je krijgt.",
            "Niemand heeft me teruggebeld, erg teleurgesteld.",
        ],
    },
}

# Sentences from the UCI "Sentiment Labelled Sentences" data set (Yelp part), Kotzias et al.,
# "From Group to Individual Labels using Deep Features", KDD 2015. Shipped inside the
# package as demo/data/yelp_labelled.txt (tab-separated sentence and 0/1 label) and used
# for the restaurant-like touchpoint (the flagship store café).
YELP_PATH = Path(__file__).resolve().parent / "data" / "yelp_labelled.txt"


def yelp_sentences() -> dict[str, list[str]]:
    """The labelled restaurant sentences, split into positive and negative."""
    sentences: dict[str, list[str]] = {POSITIVE: [], NEGATIVE: []}
    for line in YELP_PATH.read_text(encoding="utf-8").splitlines():
        text, _, label = line.rpartition("\t")
        if not text.strip() or label.strip() not in {"0", "1"}:
            continue
        sentences[POSITIVE if label.strip() == "1" else NEGATIVE].append(text.strip())
    return sentences
