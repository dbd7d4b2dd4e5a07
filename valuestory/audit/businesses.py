"""Business types and the touchpoints their customers typically meet, in the order they meet
them, for the guided audit.

Each touchpoint carries its channel, who usually owns it in a small business, the typical
effort to improve it, and a description and examples in customers' words: the owner's list
becomes the audit's codebook, and the offline engine matches customers' sentences to it by
meaning. The owner checks, removes, adds and renames them: their first-hand knowledge is the
catalogue. "Other" holds industry-neutral touchpoints.
"""

from __future__ import annotations

from dataclasses import dataclass

from valuestory.pipeline.artefacts import TouchpointDef


def _t(name: str, channel: str, owner: str, effort: str, description: str, *examples: str) -> TouchpointDef:
    return TouchpointDef(name=name, channel=channel, owner=owner, effort=effort, description=description,
                         examples=examples, origin="codebook")


@dataclass(frozen=True)
class BusinessType:
    key: str
    name: str
    staff: str  # who serves customers, as the hypotheses name them
    touchpoints: tuple[TouchpointDef, ...]


# Met by the customers of nearly every small business: before the visit or order...
BEFORE = (
    _t("Finding us online", "web", "Owner", "low", "search results, maps listing, opening hours online, photos, website",
       "couldn't find your opening hours", "the map pin was in the wrong place"),
    _t("Reviews and word of mouth", "social", "Owner", "medium", "reviews, recommendations from friends, ratings",
       "a friend recommended you", "the reviews were great"),
)
# ...and after it.
AFTER = (
    _t("Prices and paying", "in person", "Owner", "medium", "prices, value for money, card payment, receipts, bills",
       "too expensive for what it is", "card machine wasn't working"),
    _t("Staff friendliness", "in person", "Owner", "medium", "staff attitude, welcome, politeness, helpfulness",
       "the staff were so friendly", "she was rude to us"),
    _t("Complaints and follow-up", "email", "Owner", "low", "how problems were handled, refunds, apologies, replies",
       "nobody replied to my complaint", "they refunded me straight away"),
)


TYPES: dict[str, BusinessType] = {b.key: b for b in (
    BusinessType("cafe_bakery", "Café or bakery", "the counter staff", (*BEFORE,
        _t("Opening hours", "in person", "Owner", "low", "when the shop is open, closing early, selling out before closing",
           "closed before 3pm", "sold out by ten"),
        _t("Queue and waiting", "in person", "Owner", "medium", "queues, waiting to order, waiting for coffee, service speed",
           "the queue was out the door", "waited twenty minutes for a latte"),
        _t("Bread and cakes", "in person", "Baker", "medium", "taste, freshness, quality of bread, cakes, pastries",
           "the sourdough is amazing", "the croissant was stale"),
        _t("Coffee and drinks", "in person", "Barista", "low", "coffee, tea, drinks quality and temperature",
           "best flat white in town", "the coffee was lukewarm"),
        _t("Custom and phone orders", "phone", "Owner", "medium", "ordering a celebration cake, phone orders, special requests",
           "I ordered a birthday cake by phone", "they got the name on the cake wrong"),
        _t("Seating and cleanliness", "in person", "Owner", "low", "tables, seats, cleanliness, toilets, space",
           "tables were sticky", "lovely place to sit"),
        *AFTER)),
    BusinessType("restaurant", "Restaurant", "the waiting staff", (*BEFORE,
        _t("Booking a table", "web", "Owner", "low", "reservations, booking online or by phone, availability",
           "couldn't book online", "our booking was lost"),
        _t("Food quality", "in person", "Chef", "medium", "taste, portions, temperature, freshness of dishes",
           "the steak was perfect", "my pasta was cold"),
        _t("Service speed", "in person", "Front of house", "medium", "waiting for food, drinks, the bill",
           "waited an hour for mains", "quick service"),
        _t("Menu and dietary needs", "document", "Chef", "low", "menu choice, allergens, vegetarian and vegan options",
           "no vegan options", "they handled my allergy well"),
        _t("Atmosphere", "in person", "Owner", "high", "noise, music, decor, cleanliness, comfort",
           "too loud to talk", "lovely cosy atmosphere"),
        *AFTER)),
    BusinessType("salon", "Salon or beauty", "the stylists", (*BEFORE,
        _t("Booking an appointment", "web", "Front desk", "low", "booking online, by phone, availability, reminders",
           "the online booking is easy", "no slots for weeks"),
        _t("Waiting on arrival", "in person", "Front desk", "low", "being kept waiting past the appointment time",
           "waited 30 minutes past my slot", "seen right on time"),
        _t("Consultation", "in person", "Stylist", "low", "being asked what I want, advice, listening",
           "she really listened", "didn't ask what I wanted"),
        _t("The result", "in person", "Stylist", "high", "haircut, colour, nails, treatment outcome",
           "love my colour", "the cut was uneven"),
        _t("Products and aftercare", "in person", "Stylist", "low", "products sold, aftercare advice, pushing products",
           "kept pushing shampoo on me", "good aftercare tips"),
        *AFTER)),
    BusinessType("trades", "Trades and home services", "the crew", (*BEFORE,
        _t("Getting a quote", "phone", "Owner", "low", "asking for a price, quotes, estimates, site visits",
           "the quote came the same day", "never sent the estimate"),
        _t("Scheduling and turning up", "phone", "Owner", "medium", "booking the job, arriving on time, no-shows",
           "they turned up when they said", "no-show twice"),
        _t("Quality of the work", "in person", "Crew", "high", "workmanship, finish, fixing the problem",
           "did a tidy job", "the leak came back"),
        _t("Tidiness on site", "in person", "Crew", "low", "cleaning up, mess, respect for the home",
           "left the place spotless", "dust everywhere"),
        _t("Invoice and payment", "email", "Owner", "low", "the final bill, extras, payment options",
           "bill was higher than the quote", "easy to pay by card"),
        *AFTER)),
    BusinessType("clinic", "Clinic or practice", "the practitioners", (*BEFORE,
        _t("Booking an appointment", "phone", "Reception", "low", "getting an appointment, phone lines, online booking",
           "couldn't get through on the phone", "booked online in a minute"),
        _t("Reception and waiting room", "in person", "Reception", "low", "check-in, waiting time, waiting room",
           "waited an hour past my time", "reception were lovely"),
        _t("The consultation", "in person", "Practitioner", "high", "being listened to, explanation, time given",
           "explained everything clearly", "felt rushed"),
        _t("Treatment and results", "in person", "Practitioner", "high", "treatment, outcome, pain, recovery",
           "my back feels so much better", "no improvement after six sessions"),
        _t("Follow-up and records", "email", "Reception", "low", "results, letters, follow-up calls, prescriptions",
           "never got my results", "they called to check on me"),
        *AFTER)),
    BusinessType("local_shop", "Local shop", "the shop staff", (*BEFORE,
        _t("Finding products in store", "in person", "Staff", "low", "layout, signs, stock on the shelves",
           "couldn't find anything", "well laid out"),
        _t("Product range and stock", "in person", "Owner", "medium", "range, out of stock, ordering in",
           "never have my size", "great selection"),
        _t("Advice from staff", "in person", "Staff", "medium", "expert advice, product knowledge",
           "really knew their stuff", "no idea what they were selling"),
        _t("Checkout", "in person", "Staff", "low", "tills, queues, bags, card payment",
           "only one till open", "quick checkout"),
        _t("Returns and exchanges", "in person", "Owner", "low", "returning items, refunds, exchanges, receipts",
           "wouldn't take it back", "swapped it no questions asked"),
        *AFTER)),
    BusinessType("online_shop", "Online shop", "the support team", (*BEFORE,
        _t("Website and product pages", "web", "Owner", "medium", "browsing, photos, descriptions, sizes, search",
           "photos didn't match the product", "easy to find what I wanted"),
        _t("Checkout and payment", "web", "Owner", "low", "basket, checkout, discount codes, payment methods",
           "discount code didn't work", "checkout was quick"),
        _t("Delivery", "product", "Fulfilment", "medium", "shipping time, tracking, courier, lost parcels",
           "took two weeks to arrive", "arrived next day"),
        _t("Packaging and arrival", "product", "Fulfilment", "low", "packaging, damage on arrival, unboxing",
           "arrived smashed", "beautifully packaged"),
        _t("Returns and refunds", "email", "Support", "low", "returning items, refunds, return labels",
           "still waiting for my refund", "return was easy"),
        _t("Order emails and updates", "email", "Owner", "low", "order confirmation, dispatch emails, tracking updates",
           "no confirmation email", "kept me updated"),
        *AFTER)),
    BusinessType("b2b_services", "B2B services", "the account team", (*BEFORE,
        _t("First contact and proposal", "email", "Owner", "low", "enquiry, proposal, quote, response time",
           "took a week to reply to our enquiry", "clear proposal"),
        _t("Onboarding", "in person", "Account manager", "medium", "kick-off, setup, getting started",
           "the kick-off was well organised", "slow to get started"),
        _t("Communication and updates", "email", "Account manager", "low", "status updates, responsiveness, meetings",
           "never know where things stand", "weekly updates were great"),
        _t("Quality of delivery", "document", "Team", "high", "work delivered, accuracy, deadlines",
           "missed the deadline", "excellent report"),
        _t("Invoicing", "email", "Finance", "low", "invoices, billing errors, payment terms",
           "invoice had the wrong amount", "billing is straightforward"),
        *AFTER)),
    BusinessType("software", "Software", "the support team", (*BEFORE,
        _t("Signing up and trial", "web", "Product", "low", "sign-up, free trial, first login",
           "the trial was too short", "signed up in a minute"),
        _t("Setup and onboarding", "product", "Customer success", "medium", "getting set up, importing data, first steps",
           "setup took weeks", "onboarding call was helpful"),
        _t("Everyday use", "product", "Product", "high", "using the app, speed, bugs, features",
           "the app keeps crashing", "so easy to use"),
        _t("Support", "chat", "Support", "medium", "help from support, response time, chat, help articles",
           "support took days to answer", "support fixed it fast"),
        _t("Billing and plans", "email", "Finance", "low", "subscription, price changes, invoices, cancelling",
           "price went up without notice", "easy to change plans"),
        *AFTER)),
    BusinessType("other", "Other", "the team", (*BEFORE,
        _t("First contact", "phone", "Owner", "low", "enquiries, phone, email, first response",
           "nobody picked up the phone", "replied within the hour"),
        _t("Booking and ordering", "web", "Owner", "low", "making a booking or order, availability",
           "booking was easy", "couldn't get a slot"),
        _t("Waiting and timeliness", "in person", "Owner", "medium", "waiting, delays, being on time",
           "kept us waiting", "right on time"),
        _t("Quality of what we got", "in person", "Owner", "high", "quality of the product or service delivered",
           "excellent quality", "it broke within a week"),
        *AFTER)),
)}


def touchpoints_of(key: str) -> list[TouchpointDef]:
    return list(TYPES[key].touchpoints)
