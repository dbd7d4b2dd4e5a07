"""The built-in library of common touchpoints: the offline engine's starting catalogue.

Generic on purpose: touchpoints most businesses have, named by what customers meet, with the
words customers use for them. Touchpoints particular to one business are discovered from its
data or given in a codebook.
"""

from __future__ import annotations

from ..artefacts import TouchpointDef

VERSION = "library.v1"  # part of the offline engine's version: a changed list is a new engine


def T(name: str, channel: str, description: str, cues: tuple[str, ...] = (), examples: tuple[str, ...] = (),
      effort: str = "medium", owner: str = "") -> TouchpointDef:
    return TouchpointDef(name=name, channel=channel, description=description, cues=cues, examples=examples,
                         effort=effort, owner=owner)


LIBRARY: tuple[TouchpointDef, ...] = (
    T("Website", "web", "The company's website and landing pages", (r"website", r"web ?site", r"homepage", r"landing page"),
      ("the website was hard to navigate",), "low", "Marketing"),
    T("Pricing page", "web", "Published prices, plans and what each includes", (r"pricing page", r"price page", r"plans? page", r"plan comparison", r"pricing (?:was|is) (?:confusing|unclear)"),
      ("I couldn't tell which plan I needed from the pricing page",), "low", "Marketing"),
    T("Advertising", "social", "Ads on social media, search and elsewhere", (r"\bads?\b", r"advert", r"commercial", r"sponsored"),
      ("I saw an ad on Instagram",), "low", "Marketing"),
    T("Word of mouth and referrals", "social", "Recommendations from friends, peers and groups", (r"referr", r"word of mouth", r"a friend", r"recommended (?:it|us|them) to", r"(?:facebook|trade|peer) group", r"told me about", r"\bmy (?:brother|sister|cousin|mate|colleague)"),
      ("a friend recommended it", "I heard about it in a Facebook group"), "low", "Marketing"),
    T("Review sites", "social", "Ratings and reviews on third-party sites and app stores", (r"reviews?\b", r"review site", r"trustpilot", r"capterra", r"\bg2\b", r"app store", r"ratings?\b"),
      ("I read the reviews before buying",), "medium", "Marketing"),
    T("Free trial", "product", "Trying the product before paying", (r"\btrial\b", r"try(?:ing)? it (?:out|free)", r"free version"),
      ("the trial was too short to test it properly",), "low", "Growth"),
    T("Sales demo and calls", "phone", "Demos and conversations with sales people before buying", (r"\bdemo\b", r"sales (?:call|rep|person|guy|team|process)", r"salesperson", r"\brep\b", r"sales\b"),
      ("the demo showed exactly what we needed", "the sales rep promised it would work"), "medium", "Sales"),
    T("Contract and terms", "document", "The agreement: terms, commitment length, legal review", (r"contract", r"\bterms\b", r"annual (?:plan|commitment|contract)", r"minimum (?:term|commitment)", r"\blegal\b", r"clause", r"agreement", r"auto-?renew"),
      ("the contract locked us in for twelve months",), "medium", "Sales"),
    T("Onboarding and setup", "phone", "Getting started: setup calls, implementation, first configuration", (r"onboarding(?! emails?)", r"set ?up", r"implementation", r"kick-?off", r"getting started", r"go(?:ing)? live"),
      ("the onboarding call got us live in a week",), "medium", "Customer success"),
    T("Onboarding and marketing emails", "email", "Welcome emails, email sequences, newsletters", (r"(?:onboarding|welcome|marketing|promotional|daily|weekly) e-?mails?", r"too many e-?mails", r"e-?mails? (?:sequence|series)", r"newsletter", r"unsubscrib", r"mailing list", r"\bdrip\b"),
      ("too many emails in the first week",), "low", "Marketing"),
    T("Data import and migration", "product", "Bringing existing data in from spreadsheets or old systems", (r"import", r"migrat", r"spreadsheet", r"import template", r"\bcsv\b", r"transfer (?:our|my) data"),
      ("the import mangled our addresses",), "medium", "Product"),
    T("Mobile app", "product", "The app on phones and tablets: speed, stability, battery", (r"\bapp\b", r"mobile", r"\bphone\b(?! support| call)", r"tablet", r"i-?phone", r"android", r"crash", r"freez", r"battery"),
      ("the app crashes when I add photos",), "medium", "Product"),
    T("Integrations and sync", "product", "Connections to other tools and data sync", (r"integrat", r"\bsync", r"quickbooks", r"\bxero\b", r"salesforce", r"zapier", r"\bapi\b", r"connect(?:ion|or)? (?:to|with)"),
      ("the sync created duplicate invoices",), "high", "Engineering"),
    T("Payments and checkout", "product", "How the customer pays or takes payments: checkout, card payments, fees", (r"payments?\b", r"\bpay\b", r"checkout", r"card reader", r"card (?:payments?|fees?)", r"pay(?:ment)? link", r"processing fees?", r"transaction fees?", r"tap to pay"),
      ("customers pay from the text link", "card fees were higher than expected"), "medium", "Payments"),
    T("Payouts and refunds", "product", "Money reaching the customer: payouts, deposits, refunds", (r"payouts?", r"deposits?", r"refund", r"money (?:in|into|to) my (?:bank|account)", r"paid out", r"funds"),
      ("payouts take five days to reach my bank",), "high", "Finance"),
    T("Invoices and billing", "document", "Bills, invoices and charges to the customer's account", (r"invoic", r"\bbill(?:ed|ing|s)?\b", r"charged?\b", r"receipts?", r"\bseats?\b"),
      ("I was charged twice", "invoices go out automatically"), "medium", "Finance"),
    T("Price and price changes", "document", "What the product costs, and changes to it", (r"\bprices?\b(?! ?(?:books?|lists?))", r"pricing", r"price (?:increase|hike|change)", r"expensive", r"cheap", r"\bcosts?\b", r"pricey", r"afford", r"\bfees?\b"),
      ("the price went up 25% at renewal",), "high", "Pricing"),
    T("Renewal", "email", "Renewing the subscription or contract, and the notice before it", (r"renew", r"renewal"),
      ("the renewal notice came two weeks before",), "medium", "Customer success"),
    T("Cancellation", "web", "Leaving: the cancellation flow and offers to stay", (r"cancel(?!\w* (?:\d+ |a |the |some |our |my |two |three )?(?:jobs?|appointments?|visits?|bookings?|orders?|meetings?)\b)",
                                                                                       r"close (?:my|our) account", r"\bleaving\b", r"switch(?:ing|ed)? to"),
      ("four screens of offers before I could cancel",), "low", "Product"),
    T("Support chat", "chat", "Live chat and chatbots", (r"\bchat\b", r"chat ?bot", r"live chat", r"\bbot\b"),
      ("the chat closes at 6pm",), "medium", "Support"),
    T("Phone support", "phone", "Calling support", (r"phone support", r"on hold", r"hotline", r"called (?:support|them)", r"call ?back", r"phone line"),
      ("I waited 45 minutes on hold",), "medium", "Support"),
    T("Customer support", "email", "Support in general: tickets, email support, agents, response times", (r"support", r"ticket", r"help ?desk", r"customer service", r"escalat", r"\bagents?\b"),
      ("support never got back to me",), "medium", "Support"),
    T("Help center and documentation", "web", "Help articles, guides, videos and FAQs", (r"help (?:articles?|cent(?:er|re)|docs?)", r"knowledge ?base", r"documentation", r"\bfaq", r"tutorial", r"videos?\b", r"\bguides?\b", r"\bmanual\b", r"instructions"),
      ("the help articles are out of date",), "low", "Support"),
    T("Account manager", "phone", "A named person who looks after the account", (r"account manager", r"customer success", r"\bcsm\b", r"account rep"),
      ("our account manager checks in every month",), "medium", "Customer success"),
    T("Login and account access", "product", "Signing in, passwords, two-factor authentication, lockouts", (r"log ?in", r"sign ?in", r"password", r"two-?factor", r"\b2fa\b", r"locked out", r"lock ?out", r"verification code"),
      ("I was locked out after changing phones",), "medium", "Engineering"),
    T("Reliability and outages", "product", "The service being up: outages, downtime, status updates", (r"outage", r"downtime", r"\bdown\b", r"status page", r"service disruption", r"not loading", r"went down"),
      ("the outage cost us a morning of work",), "high", "Engineering"),
    T("Product updates", "product", "Changes to the product: releases, redesigns, the roadmap", (r"updates?\b", r"new version", r"release", r"redesign", r"roadmap", r"new feature", r"moved (?:the )?buttons?"),
      ("every update moves the buttons around",), "medium", "Product"),
    T("Notifications and reminders", "product", "Messages the product sends: reminders, texts, alerts", (r"reminders?", r"notifications?", r"\btexts?\b", r"\bsms\b", r"alerts?\b", r"push messages?"),
      ("text reminders cut our no-shows",), "low", "Product"),
    T("Reporting and analytics", "product", "Reports, dashboards and exports of the customer's own data", (r"report(?:s|ing)?\b", r"dashboard", r"analytics", r"\bexport", r"insights?\b"),
      ("reporting is too basic for us",), "high", "Product"),
    T("Permissions and admin", "product", "Users, roles, permissions and account administration", (r"permission", r"\broles?\b", r"admin", r"user management", r"access rights"),
      ("I can't stop staff from seeing prices",), "medium", "Product"),
    T("Delivery and shipping", "in person", "Getting physical goods to the customer", (r"deliver", r"shipp", r"\barrived?\b", r"courier", r"tracking number", r"dispatch(?:ed)? (?:the|my) order"),
      ("the reader took two weeks to arrive",), "medium", "Operations"),
    T("Packaging", "in person", "The box and what comes in it", (r"packag", r"\bbox\b", r"unbox", r"in the box"),
      ("the box had no instructions",), "low", "Operations"),
    T("Hardware and devices", "in person", "Physical devices the customer uses", (r"hardware", r"device", r"\breader\b", r"terminal", r"charger", r"bluetooth", r"pair(?:ing)?\b"),
      ("the card reader drops Bluetooth",), "medium", "Operations"),
    T("Community and social media", "social", "Forums, user groups and the company's social channels", (r"forum", r"community", r"twitter", r"linkedin", r"social media", r"\bgroup\b"),
      ("the user forum answered my question",), "low", "Marketing"),
    T("Store and in-person service", "in person", "Shops, branches, visits and staff met in person", (r"\bstore\b", r"\bshop\b", r"branch", r"showroom", r"in person", r"front desk", r"counter"),
      ("the staff at the store were helpful",), "medium", "Operations"),
    T("Customer portal", "web", "The customer's own account area online", (r"portal", r"my account", r"account page", r"self-?service"),
      ("clients can see their invoices in the portal",), "low", "Product"),
)
