"""The demo organisation as data: NumPy/pandas only, no Django, deterministic for a seed.

``generate(seed=..., responses=...)`` returns a ``DemoData`` (customers, responses and weekly
KPI observations as data frames); ``demo.services`` writes it to the database. Everything
random comes from one ``numpy.random.SeedSequence(seed)`` split into independent streams, so
the same seed, size and end date give the same data.

The data carry **planted truths** (``PLANTED_TRUTHS``) that tests and the product's analyses
are checked against:

1. **Driver weights.** Every response has a full vector of ten 1–5 driver ratings (only some
   of them are shown, see below). Its latent NPS is::

       latent = intercept + Σ_i w_i × rating_i + region + season/trend + segment
                + customer effect + noise            (noise ~ N(0, NOISE_SD))
       nps    = clip(round(latent), 0, 10)

   with the weights ``DRIVER_WEIGHTS`` in a clear rank order (first contact resolution >
   wait time > staff friendliness > billing clarity > price/value > app usability > delivery
   speed > product quality > communication > knowledge ≈ 0). Region, time, segment and
   customer effects are independent of the ratings, so plain OLS of ``nps`` on the ratings
   of the responses that show all ten recovers the rank order (the clip at 0 and 10 shrinks
   all coefficients a little, by about the same factor). Ratings are correlated (a common
   per-response factor), as in real surveys. 45% of responses show every rating, 40% show
   the touchpoint's relevant drivers, 15% none.

2. **Churn threshold.** A customer whose latest NPS answer is 6 or less churns within the
   12 months after that response with probability 30%; 7 or more with 8% (a sharp step
   between 6 and 7, flat on either side). The churn date is uniform in those 12 months; a
   date after the end of the data is not yet observed (censored), so the step is cleanest
   among customers whose latest answer is more than a year old. Customers who never
   answered follow the same rule on their expected NPS. So moving one customer from ≤6 to
   ≥7 keeps 22% of their annual revenue per year in expectation.

3. **Action effect.** The action "Callback instead of hold queue" on the contact-centre
   touchpoints (``CONTACT_CENTRE_TOUCHPOINTS``) is implemented on ``implemented_on`` (a
   Monday about six months before the end) for customers in region ``north``. From that date
   the latent NPS of north customers' contact-centre responses rises by ``ACTION_LATENT_SHIFT``,
   calibrated so that their NPS rises by about +8 points (compare ``nps`` with the hidden
   column ``nps_without_action``); region ``south`` is the untouched control. Before the
   date both regions follow the same seasonal curve and trend (parallel trends; only a
   constant level difference). The weekly KPI ``churn-rate`` of the contact-centre callers
   (scope: each contact-centre touchpoint × region north) drops by 0.04 percentage points
   per week from the same date; as callers are ``CALLER_SHARE`` (30%) of the region, the
   region-wide ``churn-rate`` of north drops by 0.012 points. South has no change.

4. **Emerging theme.** Comments about eSIM activation (no driver, and none of the default
   taxonomy's keywords) on ``EMERGING_THEME_TOUCHPOINTS``: the chance that an English,
   non-generic comment there is about it rises linearly from 4% to 20% over the period
   (praise from promoters, complaints from the others). Theme discovery on untagged comments should propose it.

5. **Business KPI effects.** ``KPI_EFFECTS`` (one row per action and KPI) plants effects on
   churn, revenue and cost to serve in weekly series that carry seasonality, trend and
   AR(1) noise (``KPI_SERIES``, ``KPI_NOISE_RHO``), partly shared across regions: the
   callback lowers callers' churn (north vs south), clearer first bills lower the cost of
   billing calls (no control: interrupted time series), live delivery tracking lowers the
   cost of "where is my order" contacts (east vs west), and a save desk raises the revenue
   kept on cancellation calls (west vs east). The effect sizes are what a CX programme
   sees (about 10% of the series they act on) and a few standard errors of the product's
   estimates, so the intervals have visible width and still exclude 0.

``DemoData.realised`` gives the truths as they came out in one sample (the NPS lift of the
treated responses, the plain "share churned so far" each churn band should show given how
recently its customers answered).

Weekly KPIs (Mondays) cover the whole period: churn rate, revenue and cost to serve per
region, churn rate of the contact-centre callers per contact-centre touchpoint × region,
cost to serve per department, and the series of ``KPI_SERIES`` (cost of billing calls, cost
of delivery contacts and revenue kept on cancellation calls per region). The churn rate is
the planted step rule applied to the expected share of customers at or below 6 in that week
(so it moves with the seasonal NPS curve, the same for every region up to a constant level),
plus the action effect and autocorrelated noise (``CALLER_CHURN_NOISE_PP`` per caller
series); revenue follows a customer base that shrinks with that churn and grows with steady
new sales. A region's revenue and cost carry the effects planted on its touchpoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr

from demo import verbatims

# --- the organisation ---------------------------------------------------------------------

DEPARTMENTS: list[dict[str, str]] = [
    {
        "slug": "customer-service",
        "name": "Customer Service",
        "description": "Contact centre, live chat, e-mail support and complaints.",
    },
    {
        "slug": "billing-payments",
        "name": "Billing & Payments",
        "description": "Bills, payments, refunds and collections.",
    },
    {
        "slug": "digital",
        "name": "Digital",
        "description": "Website, mobile app, online account and help centre.",
    },
    {
        "slug": "delivery-logistics",
        "name": "Delivery & Logistics",
        "description": "Deliveries, returns, installations and field engineers.",
    },
    {
        "slug": "sales-retention",
        "name": "Sales & Retention",
        "description": "New sales, upgrades, renewals and cancellations.",
    },
    {
        "slug": "product",
        "name": "Product",
        "description": "The products and services themselves, and the flagship store.",
    },
]

JOURNEYS: list[dict[str, Any]] = [
    {"slug": "join", "name": "Join", "position": 1},
    {"slug": "use", "name": "Use", "position": 2},
    {"slug": "pay", "name": "Pay", "position": 3},
    {"slug": "get-help", "name": "Get help", "position": 4},
    {"slug": "leave-renew", "name": "Leave/Renew", "position": 5},
]

SOURCES: list[dict[str, str]] = [
    {"key": "survey", "name": "Survey tool", "kind": "survey"},
    {"key": "contact_centre", "name": "Contact centre", "kind": "contact_centre"},
    {"key": "crm", "name": "CRM", "kind": "crm"},
    {"key": "billing", "name": "Billing system", "kind": "billing"},
]

DRIVERS: list[dict[str, Any]] = [
    {
        "slug": "first_contact_resolution",
        "label": "First contact resolution",
        "weight": 0.60,
        "theme": "resolution",
    },
    {"slug": "wait_time", "label": "Wait time", "weight": 0.50, "theme": "wait_time"},
    {"slug": "staff_friendliness", "label": "Staff friendliness", "weight": 0.42, "theme": "staff"},
    {"slug": "billing_clarity", "label": "Billing clarity", "weight": 0.34, "theme": "billing"},
    {"slug": "price_value", "label": "Price / value", "weight": 0.27, "theme": "price_value"},
    {
        "slug": "app_usability",
        "label": "App and website usability",
        "weight": 0.21,
        "theme": "website_app",
    },
    {"slug": "delivery_speed", "label": "Delivery speed", "weight": 0.15, "theme": "delivery"},
    {
        "slug": "product_quality",
        "label": "Product quality",
        "weight": 0.10,
        "theme": "product_quality",
    },
    {"slug": "communication", "label": "Communication", "weight": 0.06, "theme": "communication"},
    {"slug": "knowledge", "label": "Staff knowledge", "weight": 0.02, "theme": "knowledge"},
]
DRIVER_SLUGS = [driver["slug"] for driver in DRIVERS]
DRIVER_WEIGHTS: dict[str, float] = {driver["slug"]: driver["weight"] for driver in DRIVERS}
NPS_INTERCEPT = -1.9
NOISE_SD = 1.2
CUSTOMER_EFFECT_SD = 0.6
RATING_MEAN = 3.6

# slug, name, journey, step, step position, department, source, volume weight,
# channels {channel: p}, relevant drivers, rating shifts {driver: shift}, extra themes
# fmt: off
_TOUCHPOINT_ROWS: list[tuple[Any, ...]] = [
    ("website-visit", "Website visit", "join", "Discover", 1, "digital", "survey", 2.0,
     {"web": 1.0}, ["app_usability", "price_value", "communication"],
     {}, []),
    ("sales-call", "Sales call", "join", "Buy", 2, "sales-retention", "crm", 2.0,
     {"phone": 1.0}, ["staff_friendliness", "knowledge", "price_value", "wait_time"],
     {}, []),
    ("online-signup", "Online sign-up", "join", "Buy", 2, "digital", "survey", 2.5,
     {"web": 0.6, "app": 0.4}, ["app_usability", "price_value"],
     {"app_usability": -0.2}, ["esim"]),
    ("welcome-pack-delivery", "Welcome pack delivery", "join", "Onboard", 3, "delivery-logistics", "survey", 1.5,
     {"email": 0.7, "sms": 0.3}, ["delivery_speed", "product_quality", "communication"],
     {}, []),
    ("onboarding-call", "Onboarding call", "join", "Onboard", 3, "customer-service", "contact_centre", 1.0,
     {"phone": 1.0}, ["staff_friendliness", "knowledge", "communication"],
     {"staff_friendliness": 0.2}, []),
    ("mobile-app", "Mobile app", "use", "Everyday use", 1, "digital", "survey", 4.0,
     {"app": 1.0}, ["app_usability", "product_quality"],
     {}, ["esim"]),
    ("product-use", "Product in use", "use", "Everyday use", 1, "product", "survey", 3.5,
     {"email": 0.6, "sms": 0.2, "web": 0.2}, ["product_quality", "price_value"],
     {}, ["coverage"]),
    ("order-delivery", "Order delivery", "use", "Orders", 2, "delivery-logistics", "survey", 3.0,
     {"email": 0.6, "sms": 0.4}, ["delivery_speed", "communication", "product_quality"],
     {"delivery_speed": -0.3}, []),
    ("returns", "Returns", "use", "Orders", 2, "delivery-logistics", "survey", 1.2,
     {"web": 0.5, "email": 0.5}, ["delivery_speed", "communication", "first_contact_resolution"],
     {"first_contact_resolution": -0.3}, []),
    ("installation-visit", "Installation visit", "use", "Set-up", 3, "delivery-logistics", "survey", 1.3,
     {"in_person": 0.6, "sms": 0.4}, ["staff_friendliness", "knowledge", "wait_time"],
     {}, ["cleanliness"]),
    ("store-cafe", "Flagship store caf\u00e9", "use", "Visit us", 4, "product", "survey", 1.2,
     {"in_person": 1.0}, ["staff_friendliness", "wait_time", "product_quality", "price_value"],
     {}, ["cleanliness"]),
    ("first-bill", "First bill", "pay", "Billing", 1, "billing-payments", "billing", 1.5,
     {"email": 0.7, "web": 0.3}, ["billing_clarity", "price_value", "communication"],
     {"billing_clarity": -0.4}, []),
    ("monthly-bill", "Monthly bill", "pay", "Billing", 1, "billing-payments", "billing", 3.0,
     {"email": 0.6, "app": 0.2, "web": 0.2}, ["billing_clarity", "price_value"],
     {}, []),
    ("online-payment", "Online payment", "pay", "Paying", 2, "billing-payments", "billing", 1.5,
     {"web": 0.5, "app": 0.5}, ["app_usability", "billing_clarity"],
     {}, []),
    ("billing-call", "Billing call", "pay", "Paying", 2, "billing-payments", "contact_centre", 2.5,
     {"phone": 1.0}, ["billing_clarity", "staff_friendliness", "wait_time", "first_contact_resolution"],
     {"billing_clarity": -0.5}, []),
    ("payment-reminder", "Payment reminder", "pay", "Collections", 3, "billing-payments", "billing", 0.8,
     {"email": 0.5, "sms": 0.5}, ["communication", "billing_clarity"],
     {}, []),
    ("help-centre", "Help centre", "get-help", "Self-service", 1, "digital", "survey", 2.5,
     {"web": 0.7, "app": 0.3}, ["app_usability", "first_contact_resolution", "communication"],
     {"first_contact_resolution": -0.3}, []),
    ("live-chat", "Live chat", "get-help", "Contact us", 2, "customer-service", "contact_centre", 3.0,
     {"chat": 1.0}, ["staff_friendliness", "wait_time", "first_contact_resolution", "knowledge"],
     {}, []),
    ("support-call", "Support call", "get-help", "Contact us", 2, "customer-service", "contact_centre", 7.0,
     {"phone": 1.0}, ["staff_friendliness", "wait_time", "first_contact_resolution", "knowledge"],
     {"wait_time": -0.7, "first_contact_resolution": -0.2}, []),
    ("technical-support-call", "Technical support call", "get-help", "Contact us", 2, "customer-service", "contact_centre", 5.0,
     {"phone": 1.0}, ["wait_time", "first_contact_resolution", "knowledge", "staff_friendliness"],
     {"wait_time": -0.6, "first_contact_resolution": -0.4}, ["esim", "coverage"]),
    ("complaint-call", "Complaint call", "get-help", "Complaints", 3, "customer-service", "contact_centre", 3.0,
     {"phone": 1.0}, ["first_contact_resolution", "staff_friendliness", "wait_time", "communication"],
     {"first_contact_resolution": -0.6, "wait_time": -0.5, "communication": -0.3}, []),
    ("email-support", "E-mail support", "get-help", "Contact us", 2, "customer-service", "contact_centre", 2.0,
     {"email": 1.0}, ["communication", "first_contact_resolution"],
     {"communication": -0.3}, []),
    ("engineer-visit", "Engineer visit", "get-help", "Repairs", 4, "delivery-logistics", "survey", 1.5,
     {"in_person": 0.5, "sms": 0.5}, ["staff_friendliness", "knowledge", "first_contact_resolution"],
     {}, ["cleanliness"]),
    ("renewal-offer", "Renewal offer", "leave-renew", "Renew", 1, "sales-retention", "crm", 1.5,
     {"email": 0.8, "sms": 0.2}, ["price_value", "communication"],
     {"price_value": -0.3}, []),
    ("upgrade-call", "Upgrade call", "leave-renew", "Renew", 1, "sales-retention", "crm", 1.0,
     {"phone": 1.0}, ["staff_friendliness", "price_value", "knowledge"],
     {}, []),
    ("cancellation-call", "Cancellation call", "leave-renew", "Leave", 2, "sales-retention", "contact_centre", 1.2,
     {"phone": 1.0}, ["staff_friendliness", "wait_time", "price_value", "first_contact_resolution"],
     {"price_value": -0.5}, []),
    ("final-bill", "Final bill", "leave-renew", "Leave", 2, "billing-payments", "billing", 0.6,
     {"email": 1.0}, ["billing_clarity"],
     {"billing_clarity": -0.3}, []),
]
# fmt: on

TOUCHPOINTS: list[dict[str, Any]] = [
    {
        "slug": row[0],
        "name": row[1],
        "journey": row[2],
        "step": row[3],
        "step_position": row[4],
        "department": row[5],
        "source": row[6],
        "weight": row[7],
        "channels": row[8],
        "drivers": row[9],
        "rating_shifts": row[10],
        "extra_themes": row[11],
    }
    for row in _TOUCHPOINT_ROWS
]
CONTACT_CENTRE_TOUCHPOINTS = ["support-call", "technical-support-call", "complaint-call"]
RESTAURANT_TOUCHPOINT = "store-cafe"
EMERGING_THEME = "esim"
EMERGING_THEME_TOUCHPOINTS = [tp["slug"] for tp in TOUCHPOINTS if "esim" in tp["extra_themes"]]
EMERGING_SHARE_START = 0.04
EMERGING_SHARE_END = 0.20

REGIONS = ["north", "south", "east", "west", "central"]
REGION_SHARES = [0.21, 0.21, 0.19, 0.17, 0.22]
REGION_NPS_EFFECT = {"north": -0.35, "south": -0.10, "east": 0.10, "west": 0.05, "central": 0.15}
SEGMENTS = ["consumer", "small_business", "enterprise"]
SEGMENT_SHARES = [0.70, 0.22, 0.08]
SEGMENT_NPS_EFFECT = {"consumer": 0.0, "small_business": -0.10, "enterprise": 0.20}
SEGMENT_REVENUE_MEDIAN = {"consumer": 600.0, "small_business": 3_200.0, "enterprise": 24_000.0}
PLANS = ["basic", "standard", "premium"]
PLAN_SHARES = {
    "consumer": [0.45, 0.40, 0.15],
    "small_business": [0.25, 0.50, 0.25],
    "enterprise": [0.05, 0.35, 0.60],
}
PLAN_REVENUE_FACTOR = {"basic": 0.7, "standard": 1.0, "premium": 1.6}
FOREIGN_LANGUAGES = ["fr", "de", "es", "nl"]
FOREIGN_SHARE = 0.03
HISTORY_DAYS = 548  # 18 months
# Every seed carries the planted truths; estimates from one sample scatter around them. The
# default seed is one whose weekly KPI noise also shows the churn effect close to its value
# under the product's windows (26 weeks before, 12 after), on any end date. The NPS
# estimate's scatter (about 6 points) changes with the date the demo is seeded.
DEFAULT_SEED = 12
ACTION_DAYS_BEFORE_END = 182
ACTION_LATENT_SHIFT = 0.275
ACTION_CHURN_EFFECT_PP = -0.04
CALLER_SHARE = 0.3  # share of a region's customers who call the contact centre in a year
CALLER_CHURN_FACTOR = 1.3  # callers churn more than the region as a whole
CHURN_THRESHOLD = 6
CHURN_RATE_LOW = 0.30
CHURN_RATE_HIGH = 0.08
# Approximate mean and spread of the latent NPS of the whole base, used for the expected
# share at or below the threshold in the weekly churn KPI.
LATENT_MEAN = 7.4
LATENT_SD = 2.3
REGION_BASE_CUSTOMERS = {
    "north": 48_000,
    "south": 52_000,
    "east": 41_000,
    "west": 39_000,
    "central": 60_000,
}
REGION_ARPU = {"north": 930.0, "south": 980.0, "east": 1_010.0, "west": 960.0, "central": 1_050.0}
REGION_COST_PER_CUSTOMER_WEEK = 1.9
DEPARTMENT_COST_PER_WEEK = {
    "customer-service": 410_000.0,
    "billing-payments": 150_000.0,
    "digital": 190_000.0,
    "delivery-logistics": 280_000.0,
    "sales-retention": 170_000.0,
    "product": 230_000.0,
}

# Weekly KPI noise: each series' noise is AR(1) with this autocorrelation (a slow week
# tends to follow a slow week), part of it shared by every series of the same KPI and
# touchpoint (holidays, price news) and part local to the series.
KPI_NOISE_RHO = 0.3
KPI_NOISE_SHARED = 0.6  # share of the noise's standard deviation common to the scopes
CALLER_CHURN_NOISE_PP = 0.02  # callers' weekly churn noise per touchpoint × region, pp

# Weekly series that planted KPI effects act on (besides the callers' churn rate): the KPI,
# its scope, the level of the first week, the seasonal amplitude (share of the level, peak in
# late January), the trend (share of the level per year) and the noise (share of the level).
# Treated and control regions are of similar size, so a seasonal swing proportional to the
# level moves both alike (parallel trends).
KPI_SERIES: list[dict[str, Any]] = [
    {
        "kpi": "cost-to-serve",
        "touchpoint": "billing-call",
        "region": "",
        "level": 42_000.0,
        # No seasonal swing: this series is measured by interrupted time series, which
        # extrapolates the trend before and would read a seasonal curve as an effect.
        "season": 0.0,
        "trend": 0.02,
        "noise": 0.02,
        "description": "Cost of the billing calls (contact centre minutes), whole organisation.",
    },
    *(
        {
            "kpi": "cost-to-serve",
            "touchpoint": "order-delivery",
            "region": region,
            "level": REGION_BASE_CUSTOMERS[region] * 0.18,
            "season": 0.04,
            "trend": 0.03,
            "noise": 0.03,
            "description": "Cost of \u201cwhere is my order\u201d contacts about deliveries.",
        }
        for region in REGIONS
    ),
    *(
        {
            "kpi": "revenue",
            "touchpoint": "cancellation-call",
            "region": region,
            "level": REGION_BASE_CUSTOMERS[region] * REGION_ARPU[region] / 52 * 0.05,
            "season": 0.02,
            "trend": 0.0,
            "noise": 0.04,
            "description": "Recurring revenue kept on cancellation calls (customers who stay).",
        }
        for region in REGIONS
    ),
]

PLANTED_ACTION_TITLE = "Callback instead of hold queue"
BILL_ACTION_TITLE = "Explain price changes on the first bill"
TRACKING_ACTION_TITLE = "Live delivery tracking in the app"
SAVE_DESK_ACTION_TITLE = "Save desk on cancellation calls"

# The planted effects on business KPIs, one row per (action, KPI): the truth the product's
# impact estimates are tested against (tests/demo/test_kpi_effects.py). ``effect`` is the
# change per week of the scope's series as the product combines it (churn rate: the mean of
# the scope's series, each moved by ``effect``; currency KPIs: the sum, one series here),
# from the Monday of implementation on. ``treated``/``control`` name the KPI series'
# scope (touchpoints × region; ``control`` None: interrupted time series). ``clear``: the
# effect is several standard errors away from 0, so its interval must exclude 0.
KPI_EFFECTS: list[dict[str, Any]] = [
    {
        "action": PLANTED_ACTION_TITLE,
        "kpi": "churn-rate",
        "effect": ACTION_CHURN_EFFECT_PP,
        "unit": "pp per week",
        "treated": {"touchpoints": CONTACT_CENTRE_TOUCHPOINTS, "region": "north"},
        "control": {"touchpoints": CONTACT_CENTRE_TOUCHPOINTS, "region": "south"},
        "clear": True,
        "story": "callers who get a callback leave less often",
    },
    {
        "action": BILL_ACTION_TITLE,
        "kpi": "cost-to-serve",
        "effect": -4_200.0,
        "unit": "EUR per week",
        "treated": {"touchpoints": ["billing-call"], "region": ""},
        "control": None,
        "clear": True,
        "story": "clearer first bills, fewer billing calls: about 10% of their cost",
    },
    {
        "action": TRACKING_ACTION_TITLE,
        "kpi": "cost-to-serve",
        "effect": -1_000.0,
        "unit": "EUR per week",
        "treated": {"touchpoints": ["order-delivery"], "region": "east"},
        "control": {"touchpoints": ["order-delivery"], "region": "west"},
        "clear": True,
        "story": "fewer \u201cwhere is my order\u201d contacts after live tracking: about 13%",
    },
    {
        "action": SAVE_DESK_ACTION_TITLE,
        "kpi": "revenue",
        "effect": 4_500.0,
        "unit": "EUR per week",
        "treated": {"touchpoints": ["cancellation-call"], "region": "west"},
        "control": {"touchpoints": ["cancellation-call"], "region": "east"},
        "clear": True,
        "story": "more customers kept on cancellation calls: about 12% more revenue kept",
    },
]

KPIS: list[dict[str, Any]] = [
    {
        "slug": "churn-rate",
        "name": "Churn rate",
        "unit": "% per week",
        "higher_is_better": False,
        "description": "Customers lost in the week as a percentage of the customers at its start.",
    },
    {
        "slug": "revenue",
        "name": "Revenue",
        "unit": "EUR",
        "higher_is_better": True,
        "description": "Recurring revenue billed in the week.",
    },
    {
        "slug": "cost-to-serve",
        "name": "Cost to serve",
        "unit": "EUR",
        "higher_is_better": False,
        "description": "Operating cost of serving customers in the week.",
    },
]

USERS: list[dict[str, Any]] = [
    {
        "username": "admin",
        "role": "superuser",
        "first_name": "Ada",
        "last_name": "Admin",
        "departments": [],
    },
    {
        "username": "cx",
        "role": "cx_manager",
        "first_name": "Chris",
        "last_name": "Xavier",
        "departments": [],
    },
    {
        "username": "lm.service",
        "role": "line_manager",
        "first_name": "Sam",
        "last_name": "Service",
        "departments": ["customer-service"],
    },
    {
        "username": "lm.billing",
        "role": "line_manager",
        "first_name": "Bea",
        "last_name": "Billing",
        "departments": ["billing-payments"],
    },
    {
        "username": "lm.digital",
        "role": "line_manager",
        "first_name": "Dev",
        "last_name": "Digital",
        "departments": ["digital"],
    },
    {
        "username": "viewer",
        "role": "viewer",
        "first_name": "Vic",
        "last_name": "Viewer",
        "departments": ["customer-service"],
    },
]
DEMO_PASSWORD = "demo1234"  # development demo only; printed by seed_demo and demo_logins

ACTIONS: list[dict[str, Any]] = [
    {
        "title": PLANTED_ACTION_TITLE,
        "status": "implemented",
        "department": "customer-service",
        "owner": "lm.service",
        "insight_kind": "driver",
        "evidence": {"driver": "wait_time"},
        "description": "Offer a callback at the customer's chosen time instead of holding in "
        "the queue on the contact-centre lines. Rolled out in region north; south is the control.",
        "cost_estimate": 120_000,
        "touchpoints": CONTACT_CENTRE_TOUCHPOINTS,
        "scope_attributes": {"region": ["north"]},
        "control_attributes": {"region": ["south"]},
        "target_kpis": [
            {"kpi": "nps", "expected_change": 8, "unit": "points"},
            {"kpi": "churn-rate", "expected_change": ACTION_CHURN_EFFECT_PP, "unit": "% per week"},
        ],
        "implemented_days_before_end": ACTION_DAYS_BEFORE_END,
        "created_days_before_end": 260,
    },
    {
        "title": BILL_ACTION_TITLE,
        "status": "measured",
        "department": "billing-payments",
        "owner": "lm.billing",
        "insight_kind": "topic",
        "evidence": {"topic": "billing"},
        "description": "A one-page explanation of every line of the first bill, for every "
        "customer at once (no control group: measured against the trend before).",
        "cost_estimate": 15_000,
        "touchpoints": ["first-bill", "billing-call"],
        "scope_attributes": {},
        "control_attributes": {},
        "target_kpis": [
            {"kpi": "nps", "expected_change": 3, "unit": "points"},
            {"kpi": "cost-to-serve", "expected_change": -3_000, "unit": "EUR"},
        ],
        "implemented_days_before_end": 330,
        "created_days_before_end": 420,
    },
    {
        "title": "Fix app log-in failures after updates",
        "status": "in_progress",
        "department": "digital",
        "owner": "lm.digital",
        "insight_kind": "topic",
        "evidence": {"topic": "website-app"},
        "description": "Keep sessions valid across app updates; add a clear error message.",
        "cost_estimate": 40_000,
        "touchpoints": ["mobile-app", "online-payment"],
        "scope_attributes": {},
        "control_attributes": {},
        "target_kpis": [{"kpi": "cost-to-serve", "expected_change": -5_000, "unit": "EUR"}],
        "created_days_before_end": 60,
    },
    {
        "title": TRACKING_ACTION_TITLE,
        "status": "implemented",
        "department": "digital",
        "owner": "lm.digital",
        "insight_kind": "touchpoint",
        "evidence": {"touchpoint": "order-delivery"},
        "description": "Show the courier's position and a one-hour slot in the app. Piloted "
        "in region east; west is the control.",
        "cost_estimate": 55_000,
        "touchpoints": ["order-delivery", "mobile-app"],
        "scope_attributes": {"region": ["east"]},
        "control_attributes": {"region": ["west"]},
        "target_kpis": [
            {"kpi": "nps", "expected_change": 5, "unit": "points"},
            {"kpi": "cost-to-serve", "expected_change": -1_500, "unit": "EUR"},
        ],
        "implemented_days_before_end": 140,
        "created_days_before_end": 220,
    },
    {
        "title": SAVE_DESK_ACTION_TITLE,
        "status": "implemented",
        "department": "customer-service",
        "owner": "lm.service",
        "insight_kind": "touchpoint",
        "evidence": {"touchpoint": "cancellation-call"},
        "description": "Route cancellation calls to trained save-desk agents who can offer "
        "a better-fitting plan. Started in region west; east is the control.",
        "cost_estimate": 35_000,
        "touchpoints": ["cancellation-call"],
        "scope_attributes": {"region": ["west"]},
        "control_attributes": {"region": ["east"]},
        "target_kpis": [{"kpi": "revenue", "expected_change": 5_000, "unit": "EUR"}],
        "implemented_days_before_end": 168,
        "created_days_before_end": 240,
    },
    {
        "title": "Same-day refunds for double charges",
        "status": "accepted",
        "department": "billing-payments",
        "owner": "lm.billing",
        "insight_kind": "driver",
        "evidence": {"driver": "billing_clarity"},
        "description": "Refund duplicate direct debits the same day without a call.",
        "cost_estimate": 25_000,
        "touchpoints": ["billing-call", "monthly-bill"],
        "scope_attributes": {},
        "control_attributes": {},
        "target_kpis": [{"kpi": "churn-rate", "expected_change": -0.01, "unit": "% per week"}],
        "created_days_before_end": 30,
    },
    {
        "title": "Chat agents can issue goodwill credits",
        "status": "proposed",
        "department": "customer-service",
        "owner": "lm.service",
        "insight_kind": "touchpoint",
        "evidence": {"touchpoint": "live-chat"},
        "description": "Let chat agents resolve small complaints with a credit on the spot.",
        "cost_estimate": 30_000,
        "touchpoints": ["live-chat"],
        "scope_attributes": {},
        "control_attributes": {},
        "target_kpis": [{"kpi": "nps", "expected_change": 4, "unit": "points"}],
        "created_days_before_end": 7,
    },
    {
        "title": "Redesign the help centre search",
        "status": "declined",
        "department": "digital",
        "owner": "lm.digital",
        "insight_kind": "topic",
        "evidence": {"topic": "website-app"},
        "description": "Replace the help centre search engine.",
        "cost_estimate": 90_000,
        "touchpoints": ["help-centre"],
        "scope_attributes": {},
        "control_attributes": {},
        "target_kpis": [],
        "declined_reason": "Already covered by the 2026 website rebuild.",
        "created_days_before_end": 90,
    },
]

PLANTED_TRUTHS: dict[str, Any] = {
    "driver_weights": dict(DRIVER_WEIGHTS),
    "driver_rank": sorted(DRIVER_WEIGHTS, key=lambda slug: -DRIVER_WEIGHTS[slug]),
    "nps_model": {
        "intercept": NPS_INTERCEPT,
        "noise_sd": NOISE_SD,
        "customer_effect_sd": CUSTOMER_EFFECT_SD,
        "outcome": "nps = clip(round(latent), 0, 10)",
    },
    "churn": {
        "rule": "customer's latest NPS <= threshold",
        "threshold_nps": CHURN_THRESHOLD,
        "annual_rate_at_or_below": CHURN_RATE_LOW,
        "annual_rate_above": CHURN_RATE_HIGH,
        "window_days": 365,
        "revenue_kept_per_customer_moved": "0.22 x annual revenue per year",
    },
    "action": {
        "title": PLANTED_ACTION_TITLE,
        "department": "customer-service",
        "touchpoints": list(CONTACT_CENTRE_TOUCHPOINTS),
        "scope": {"region": ["north"]},
        "control": {"region": ["south"]},
        "implemented_days_before_end": ACTION_DAYS_BEFORE_END,
        "nps_effect_points": 8.0,
        "latent_shift": ACTION_LATENT_SHIFT,
        "churn_rate_effect_pp_per_week": ACTION_CHURN_EFFECT_PP,
        "churn_rate_effect_scope": "each contact-centre touchpoint x region",
        "region_churn_rate_effect_pp_per_week": ACTION_CHURN_EFFECT_PP * CALLER_SHARE,
        "parallel_pre_trends": True,
    },
    "emerging_theme": {
        "theme": EMERGING_THEME,
        "keyword": "esim",
        "touchpoints": EMERGING_THEME_TOUCHPOINTS,
        "share_start": EMERGING_SHARE_START,
        "share_end": EMERGING_SHARE_END,
    },
    "foreign_share_of_comments": FOREIGN_SHARE,
    "kpi_effects": KPI_EFFECTS,
}


@dataclass
class DemoData:
    """One generated organisation's facts: what ``demo.services`` writes to the database."""

    seed: int
    start: datetime
    end: datetime
    implemented_on: date
    implemented_dates: dict[str, date]  # every implemented action's Monday of implementation
    customers: pd.DataFrame
    responses: pd.DataFrame
    kpis: pd.DataFrame
    full_ratings: np.ndarray  # every response's ten ratings, shown or not (hidden truth)
    realised: dict[str, float]  # the planted truths as they came out in this sample


def _realised(
    data_customers: pd.DataFrame, responses: pd.DataFrame, end: datetime
) -> dict[str, float]:
    """The planted effects as realised in this sample, for analyses that see only the data.

    Churn is observed only up to ``end``: with churn uniform over the year after the latest
    answer, a customer answered ``d`` days ago has churned by now with probability
    rate × min(d, 365) / 365, so a plain "share churned" is lower than the annual rate;
    ``observed_churn_share_*`` is its expectation for this sample.
    """
    treated = responses[responses["treated"]]
    answered = data_customers[data_customers["last_response_at"].notna()]
    exposure = (pd.Timestamp(end) - answered["last_response_at"]).dt.days.clip(0, 365) / 365
    low = answered["latest_nps"] <= CHURN_THRESHOLD
    return {
        "action_nps_effect_points": (
            nps_score(treated["nps"]) - nps_score(treated["nps_without_action"])
            if len(treated)
            else math.nan
        ),
        "action_treated_responses": float(len(treated)),
        "observed_churn_share_at_or_below": float(CHURN_RATE_LOW * exposure[low].mean())
        if low.any()
        else math.nan,
        "observed_churn_share_above": float(CHURN_RATE_HIGH * exposure[~low].mean())
        if (~low).any()
        else math.nan,
    }


def default_end() -> datetime:
    """The start of today (UTC): the data end there, so a seed is stable through the day."""
    return datetime.combine(datetime.now(UTC).date(), time(0, 0), tzinfo=UTC)


def implementation_date(end: datetime, days_before_end: int = ACTION_DAYS_BEFORE_END) -> date:
    """The Monday on or before ``days_before_end`` days before ``end``."""
    day = end.date() - timedelta(days=days_before_end)
    return day - timedelta(days=day.weekday())


def implementation_dates(end: datetime) -> dict[str, date]:
    """Each implemented demo action's date of implementation (a Monday), by title."""
    return {
        spec["title"]: implementation_date(end, spec["implemented_days_before_end"])
        for spec in ACTIONS
        if "implemented_days_before_end" in spec
    }


def _time_effect(fraction_of_period: np.ndarray, day_of_year: np.ndarray) -> np.ndarray:
    """The common seasonal curve (a winter dip) and slow upward trend of every region."""
    season = -0.30 * np.cos(2 * np.pi * (day_of_year - 20) / 365.25)
    return season + 0.25 * fraction_of_period


def generate(
    *,
    seed: int = DEFAULT_SEED,
    responses: int = 50_000,
    customers: int | None = None,
    end: datetime | None = None,
) -> DemoData:
    """Generate the demo organisation's customers, responses and weekly KPIs."""
    if responses < 0:
        raise ValueError("responses must be zero or more")
    end = end or default_end()
    start = end - timedelta(days=HISTORY_DAYS)
    implemented_on = implementation_date(end)
    implemented_dates = implementation_dates(end)
    n_customers = customers if customers is not None else max(200, round(responses * 0.24))
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    customer_frame, customer_effect = _customers(streams[0], n_customers)
    response_frame, full_ratings = _responses(
        streams[1], responses, customer_frame, customer_effect, start, end, implemented_on
    )
    response_frame["comment"], response_frame["language"] = _comments(
        streams[2], response_frame, full_ratings, start, end
    )
    _churn(streams[3], customer_frame, customer_effect, response_frame, start, end)
    kpis = _kpis(streams[4], start, end, implemented_dates)
    return DemoData(
        seed=seed,
        start=start,
        end=end,
        implemented_on=implemented_on,
        implemented_dates=implemented_dates,
        customers=customer_frame,
        responses=response_frame,
        kpis=kpis,
        full_ratings=full_ratings,
        realised=_realised(customer_frame, response_frame, end),
    )


def _customers(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    region = rng.choice(REGIONS, size=n, p=REGION_SHARES)
    segment = rng.choice(SEGMENTS, size=n, p=SEGMENT_SHARES)
    plan = np.empty(n, dtype=object)
    for name, shares in PLAN_SHARES.items():
        mask = segment == name
        plan[mask] = rng.choice(PLANS, size=int(mask.sum()), p=shares)
    median = np.array([SEGMENT_REVENUE_MEDIAN[s] for s in segment])
    factor = np.array([PLAN_REVENUE_FACTOR[p] for p in plan])
    revenue = np.round(median * factor * rng.lognormal(0.0, 0.35, size=n), 2)
    tenure = np.round(rng.gamma(2.0, 2.0, size=n), 1)
    activity = rng.gamma(1.5, 1.0, size=n)
    effect = rng.normal(0.0, CUSTOMER_EFFECT_SD, size=n)
    frame = pd.DataFrame(
        {
            "external_id": [f"C-{i + 1:06d}" for i in range(n)],
            "region": region,
            "segment": segment,
            "plan": plan,
            "annual_revenue": revenue,
            "tenure_years": tenure,
            "activity": activity,
        }
    )
    return frame, effect


def _responses(
    rng: np.random.Generator,
    n: int,
    customers: pd.DataFrame,
    customer_effect: np.ndarray,
    start: datetime,
    end: datetime,
    implemented_on: date,
) -> tuple[pd.DataFrame, np.ndarray]:
    days = (end - start).days
    day_index = np.arange(days)
    day_dates = pd.to_datetime(start) + pd.to_timedelta(day_index, unit="D")
    weekday = day_dates.weekday.to_numpy()
    day_weight = (1.0 + 0.35 * day_index / days) * np.where(weekday >= 5, 0.6, 1.0)
    chosen_day = rng.choice(days, size=n, p=day_weight / day_weight.sum())
    hour = rng.choice(24, size=n, p=_hour_weights())
    seconds = hour * 3600 + rng.integers(0, 3600, size=n)
    offsets = chosen_day.astype("int64") * 86_400 + seconds
    order = np.argsort(offsets, kind="stable")
    offsets = offsets[order]
    chosen_day = chosen_day[order]
    submitted_at = pd.to_datetime(start) + pd.to_timedelta(offsets, unit="s")

    tp_weight = np.array([tp["weight"] for tp in TOUCHPOINTS])
    tp_index = rng.choice(len(TOUCHPOINTS), size=n, p=tp_weight / tp_weight.sum())
    activity = customers["activity"].to_numpy()
    cust_index = rng.choice(len(customers), size=n, p=activity / activity.sum())

    channel = np.empty(n, dtype=object)
    for i, tp in enumerate(TOUCHPOINTS):
        mask = tp_index == i
        names = list(tp["channels"])
        probs = np.array([tp["channels"][c] for c in names])
        channel[mask] = rng.choice(names, size=int(mask.sum()), p=probs / probs.sum())

    k = len(DRIVERS)
    shifts = np.array(
        [[tp["rating_shifts"].get(d, 0.0) for d in DRIVER_SLUGS] for tp in TOUCHPOINTS]
    )
    general = rng.normal(0.0, 1.0, size=(n, 1))
    specific = rng.normal(0.0, 1.0, size=(n, k))
    ratings = np.clip(
        np.rint(RATING_MEAN + shifts[tp_index] + 0.75 * general + 0.75 * specific), 1, 5
    ).astype(np.int64)
    weights = np.array([DRIVER_WEIGHTS[d] for d in DRIVER_SLUGS])

    region = customers["region"].to_numpy()[cust_index]
    segment = customers["segment"].to_numpy()[cust_index]
    fraction = chosen_day / days
    day_of_year = day_dates[chosen_day].dayofyear.to_numpy()
    latent = (
        NPS_INTERCEPT
        + ratings @ weights
        + np.array([REGION_NPS_EFFECT[r] for r in region])
        + np.array([SEGMENT_NPS_EFFECT[s] for s in segment])
        + _time_effect(fraction, day_of_year)
        + customer_effect[cust_index]
        + rng.normal(0.0, NOISE_SD, size=n)
    )
    tp_slug = np.array([tp["slug"] for tp in TOUCHPOINTS], dtype=object)[tp_index]
    implemented_at = pd.Timestamp(datetime.combine(implemented_on, time(0, 0), tzinfo=UTC))
    treated = (
        (region == "north")
        & np.isin(tp_slug, CONTACT_CENTRE_TOUCHPOINTS)
        & np.asarray(submitted_at >= implemented_at)
    )
    nps_without_action = np.clip(np.rint(latent), 0, 10).astype(np.int64)
    latent = latent + ACTION_LATENT_SHIFT * treated
    nps = np.clip(np.rint(latent), 0, 10).astype(np.int64)

    has_csat = rng.random(n) < 0.7
    csat = np.clip(np.rint(1.0 + 0.4 * latent + rng.normal(0.0, 0.6, size=n)), 1, 5)
    wait = ratings[:, DRIVER_SLUGS.index("wait_time")]
    in_get_help = np.array(
        [TOUCHPOINTS[i]["journey"] == "get-help" for i in range(len(TOUCHPOINTS))]
    )
    has_ces = rng.random(n) < np.where(in_get_help[tp_index], 0.8, 0.3)
    ces = np.clip(
        np.rint(6.3 - 0.5 * latent + 0.3 * (3 - wait) + rng.normal(0.0, 0.7, size=n)), 1, 7
    )

    survey_kind = rng.choice(3, size=n, p=[0.45, 0.40, 0.15])  # full, relevant, none
    keep = rng.random((n, k)) < 0.9
    relevant = np.array([[d in tp["drivers"] for d in DRIVER_SLUGS] for tp in TOUCHPOINTS])
    shown = np.where(
        survey_kind[:, None] == 0,
        True,
        np.where(survey_kind[:, None] == 1, relevant[tp_index] & keep, False),
    )
    ratings_shown = [
        {DRIVER_SLUGS[j]: int(ratings[i, j]) for j in np.flatnonzero(shown[i])} for i in range(n)
    ]
    source_key = np.array([tp["source"] for tp in TOUCHPOINTS], dtype=object)[tp_index]

    frame = pd.DataFrame(
        {
            "external_id": [f"demo-{i + 1:07d}" for i in range(n)],
            "source": source_key,
            "submitted_at": submitted_at,
            "customer": customers["external_id"].to_numpy()[cust_index],
            "customer_index": cust_index,
            "touchpoint": tp_slug,
            "channel": channel,
            "nps": nps,
            "csat": pd.array(np.where(has_csat, csat, np.nan), dtype="Int64"),
            "ces": pd.array(np.where(has_ces, ces, np.nan), dtype="Int64"),
            "ratings": ratings_shown,
            "region": region,
            "segment": segment,
            "plan": customers["plan"].to_numpy()[cust_index],
            "treated": treated,
            "nps_without_action": nps_without_action,
        }
    )
    return frame, ratings


def _hour_weights() -> np.ndarray:
    hours = np.arange(24)
    weights = 0.15 + np.exp(-((hours - 11.5) ** 2) / 18) + 0.7 * np.exp(-((hours - 19) ** 2) / 6)
    return weights / weights.sum()


def _comments(
    rng: np.random.Generator,
    responses: pd.DataFrame,
    ratings: np.ndarray,
    start: datetime,
    end: datetime,
) -> tuple[list[str], list[str]]:
    """A comment (or "") and its language for each response, agreeing with its scores."""
    n = len(responses)
    nps = responses["nps"].to_numpy()
    touchpoints = responses["touchpoint"].to_numpy()
    days = max((end - start).days, 1)
    fraction = (
        (responses["submitted_at"] - pd.Timestamp(start)).dt.days.to_numpy() / days
        if n
        else np.zeros(0)
    )
    tp_by_slug = {tp["slug"]: tp for tp in TOUCHPOINTS}
    yelp = verbatims.yelp_sentences()
    theme_of = {d["slug"]: d["theme"] for d in DRIVERS}
    has_comment = rng.random(n) < np.where(nps <= 6, 0.70, 0.55)
    foreign = rng.random(n) < FOREIGN_SHARE
    uniforms = rng.random((n, 12))
    comments = [""] * n
    languages = [""] * n
    for i in np.flatnonzero(has_comment):
        u = uniforms[i]
        polarity = "negative" if nps[i] <= 6 else "positive" if nps[i] >= 9 else "mixed"
        if foreign[i]:
            language = FOREIGN_LANGUAGES[int(u[0] * len(FOREIGN_LANGUAGES))]
            bank = verbatims.FOREIGN[language]
            side = verbatims.NEGATIVE if polarity == "negative" else verbatims.POSITIVE
            if polarity == "mixed":
                side = verbatims.POSITIVE if u[1] < 0.5 else verbatims.NEGATIVE
            comments[i] = _pick(bank[side], u[2])
            languages[i] = language
            continue
        languages[i] = "en"
        tp = tp_by_slug[touchpoints[i]]
        if tp["slug"] == RESTAURANT_TOUCHPOINT and u[3] < 0.8:
            side = verbatims.NEGATIVE if polarity == "negative" else verbatims.POSITIVE
            if polarity == "mixed":
                side = verbatims.POSITIVE if u[1] < 0.6 else verbatims.NEGATIVE
            first = _pick(yelp[side], u[2])
            comments[i] = first if u[4] < 0.6 else f"{first} {_pick(yelp[side], u[5])}"
            continue
        if u[3] < 0.03:
            generic = "neutral" if polarity == "mixed" else polarity
            comments[i] = _pick(verbatims.GENERIC[generic], u[2])
            continue
        comments[i] = _english_comment(polarity, ratings[i], tp, theme_of, float(fraction[i]), u)
    return comments, languages


def _pick(options: list[str], u: float) -> str:
    return options[min(int(u * len(options)), len(options) - 1)]


def _english_comment(
    polarity: str,
    ratings: np.ndarray,
    tp: dict[str, Any],
    theme_of: dict[str, str],
    fraction: float,
    u: np.ndarray,
) -> str:
    relevant = [DRIVER_SLUGS.index(d) for d in tp["drivers"]] or list(range(len(DRIVERS)))
    by_rating = sorted(relevant, key=lambda j: (ratings[j], u[6] < 0.5 and j))
    worst = theme_of[DRIVER_SLUGS[by_rating[0]]]
    best = theme_of[DRIVER_SLUGS[by_rating[-1]]]
    second_worst = theme_of[DRIVER_SLUGS[by_rating[1]]] if len(by_rating) > 1 else worst
    second_best = theme_of[DRIVER_SLUGS[by_rating[-2]]] if len(by_rating) > 1 else best
    extras = [theme for theme in tp["extra_themes"] if theme != EMERGING_THEME]
    emerging_share = EMERGING_SHARE_START + (EMERGING_SHARE_END - EMERGING_SHARE_START) * fraction
    if EMERGING_THEME in tp["extra_themes"] and u[7] < emerging_share:
        if polarity == "positive":
            best = second_best = EMERGING_THEME
        else:
            worst = second_worst = EMERGING_THEME
    elif extras and u[7] < 0.3:
        extra = extras[int(u[8] * len(extras)) % len(extras)]
        if u[8] < 0.5:
            worst = extra
        else:
            best = extra
    if polarity == "mixed":
        first = _pick(verbatims.THEMES[best][verbatims.POSITIVE], u[9])
        second = _pick(verbatims.THEMES[worst][verbatims.NEGATIVE], u[10])
        if u[11] < 0.5:
            first, second = second, first
        joined = first + _pick(verbatims.MIXED_JOINERS, u[5]) + second
        return _sentence(joined, "")
    side = verbatims.NEGATIVE if polarity == "negative" else verbatims.POSITIVE
    main, other = (worst, second_worst) if side == verbatims.NEGATIVE else (best, second_best)
    text = _pick(verbatims.THEMES[main][side], u[9])
    if u[10] < 0.4 and other != main:
        text += _pick(verbatims.SAME_POLARITY_JOINERS, u[5]) + _pick(
            verbatims.THEMES[other][side], u[11]
        )
    opener = _pick(verbatims.OPENERS[side], u[4])
    closer = _pick(verbatims.CLOSERS[side], u[2])
    return _sentence(opener + text, closer)


def _sentence(text: str, closer: str) -> str:
    text = text[0].upper() + text[1:]
    text = ". ".join(part[0].upper() + part[1:] if part else part for part in text.split(". "))
    return f"{text}.{closer}"


def _customer_mean_nps(responses: pd.DataFrame, n_customers: int) -> np.ndarray:
    sums = np.bincount(responses["customer_index"], weights=responses["nps"], minlength=n_customers)
    counts = np.bincount(responses["customer_index"], minlength=n_customers)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _churn(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    customer_effect: np.ndarray,
    responses: pd.DataFrame,
    start: datetime,
    end: datetime,
) -> None:
    """Planted truth 2: churn within a year of the latest response, 30% at ≤6, 8% above."""
    n = len(customers)
    latest = responses.groupby("customer_index")["nps"].last()
    latest_nps = np.full(n, np.nan)
    latest_nps[latest.index.to_numpy()] = latest.to_numpy()
    expected = (
        LATENT_MEAN
        + customer_effect
        + customers["region"].map(REGION_NPS_EFFECT).to_numpy()
        + customers["segment"].map(SEGMENT_NPS_EFFECT).to_numpy()
    )
    score = np.where(np.isnan(latest_nps), np.floor(expected + 0.5), latest_nps)
    low = score <= CHURN_THRESHOLD
    churns = rng.random(n) < np.where(low, CHURN_RATE_LOW, CHURN_RATE_HIGH)
    last = pd.Series(responses.groupby("customer_index")["submitted_at"].max())
    reference = pd.Series(
        pd.to_datetime(start) + pd.to_timedelta(rng.uniform(0, HISTORY_DAYS, size=n), unit="D")
    )
    reference.loc[last.index] = last.to_numpy()
    churned_at = reference + pd.to_timedelta(rng.uniform(1, 365, size=n), unit="D")
    churned_at = churned_at.dt.floor("s")
    observed = churns & (churned_at < pd.Timestamp(end)).to_numpy()
    customers["mean_nps"] = _customer_mean_nps(responses, n)
    customers["latest_nps"] = latest_nps
    customers["nps_band_low"] = low
    customers["last_response_at"] = reference.where(
        pd.Series(np.isin(np.arange(n), last.index.to_numpy()))
    )
    customers["churned_at"] = churned_at.where(pd.Series(observed))
    contacts = np.bincount(
        responses["customer_index"][
            responses["touchpoint"].isin(
                [tp["slug"] for tp in TOUCHPOINTS if tp["journey"] == "get-help"]
            )
        ],
        minlength=n,
    )
    customers["cost_to_serve"] = np.round(
        40.0 + 0.04 * customers["annual_revenue"].to_numpy() + 18.0 * contacts, 2
    )


def _weeks(start: datetime, end: datetime) -> list[date]:
    first = start.date() + timedelta(days=(7 - start.date().weekday()) % 7)
    weeks = []
    day = first
    while day + timedelta(days=7) <= end.date():
        weeks.append(day)
        day += timedelta(days=7)
    return weeks


def _ar1_noise(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    """Stationary AR(1) noise with standard deviation ``sd`` and ``KPI_NOISE_RHO``."""
    shocks = rng.normal(0.0, sd * math.sqrt(1 - KPI_NOISE_RHO**2), size=n)
    noise = np.empty(n)
    previous = rng.normal(0.0, sd)
    for i in range(n):
        previous = KPI_NOISE_RHO * previous + shocks[i]
        noise[i] = previous
    return noise


def _in_scope(scope: dict[str, Any] | None, touchpoint: str, region: str) -> bool:
    return scope is not None and touchpoint in scope["touchpoints"] and scope["region"] == region


def _planted_effect(
    kpi: str,
    touchpoint: str,
    region: str,
    weeks: list[date],
    implemented_dates: dict[str, date],
) -> np.ndarray:
    """What ``KPI_EFFECTS`` add to one series each week (0 before implementation).

    A rate (churn) moves by the effect in every series of the treated scope, so their mean
    does; a currency KPI's effect is spread evenly over the treated touchpoints' series, so
    their sum moves by it. A region's own series (no touchpoint) of a currency KPI carries
    the effects planted on its touchpoints too (it is their total); the region's churn rate
    is handled by ``CALLER_SHARE``.
    """
    added = np.zeros(len(weeks))
    for planted in KPI_EFFECTS:
        if planted["kpi"] != kpi or planted["action"] not in implemented_dates:
            continue
        treated = planted["treated"]
        post = np.array([week >= implemented_dates[planted["action"]] for week in weeks])
        share = 1.0 if kpi == "churn-rate" else 1.0 / len(treated["touchpoints"])
        if _in_scope(treated, touchpoint, region):
            added += planted["effect"] * share * post
        elif touchpoint == "" and region and treated["region"] == region and kpi != "churn-rate":
            added += planted["effect"] * post
    return added


def _kpis(
    rng: np.random.Generator,
    start: datetime,
    end: datetime,
    implemented_dates: dict[str, date],
) -> pd.DataFrame:
    """Weekly KPI observations per region, touchpoint × region, touchpoint and department.

    Columns: ``kpi``, ``period_start`` (a Monday), ``period_end``, ``region``,
    ``touchpoint``, ``department`` (empty when not part of the scope) and ``value``.
    """
    weeks = _weeks(start, end)
    total_days = (end - start).days
    rows: list[dict[str, Any]] = []
    mid = [w + timedelta(days=3) for w in weeks]
    fraction = np.array([(d - start.date()).days / total_days for d in mid])
    doy = np.array([d.timetuple().tm_yday for d in mid])
    time_effect = _time_effect(fraction, doy)
    season = np.cos(2 * np.pi * (doy - 20) / 365.25)  # 1 in late January
    years = np.array([(week - weeks[0]).days / 365.25 for week in weeks]) if weeks else np.zeros(0)
    n_weeks = len(weeks)
    # Week-to-week shocks shared by every region (holidays, price news) plus a small local part.
    common_churn_shock = rng.normal(0.0, 0.006, size=n_weeks)
    common_caller_noise = _ar1_noise(rng, n_weeks, CALLER_CHURN_NOISE_PP * KPI_NOISE_SHARED)
    local_share = math.sqrt(1 - KPI_NOISE_SHARED**2)
    for region in REGIONS:
        # The step rule on the base's expected share at or below 6, with the region's level
        # added as a constant offset so that regions share one time curve (parallel trends).
        shares_low = ndtr((CHURN_THRESHOLD + 0.5 - LATENT_MEAN - time_effect) / LATENT_SD)
        level = ndtr((CHURN_THRESHOLD + 0.5 - LATENT_MEAN - REGION_NPS_EFFECT[region]) / LATENT_SD)
        share_low = shares_low + level - ndtr((CHURN_THRESHOLD + 0.5 - LATENT_MEAN) / LATENT_SD)
        expected = 100 * (share_low * CHURN_RATE_LOW + (1 - share_low) * CHURN_RATE_HIGH) / 52
        caller_effects = [
            _planted_effect("churn-rate", touchpoint, region, weeks, implemented_dates)
            for touchpoint in CONTACT_CENTRE_TOUCHPOINTS
        ]
        churn_pct = (
            expected
            + CALLER_SHARE * np.mean(caller_effects, axis=0)
            + common_churn_shock
            + _ar1_noise(rng, n_weeks, 0.006)
        )
        for touchpoint, effect in zip(CONTACT_CENTRE_TOUCHPOINTS, caller_effects, strict=True):
            callers = (
                expected * CALLER_CHURN_FACTOR
                + effect
                + CALLER_CHURN_FACTOR * common_churn_shock
                + common_caller_noise
                + _ar1_noise(rng, n_weeks, CALLER_CHURN_NOISE_PP * local_share)
            )
            rows += [
                {
                    "kpi": "churn-rate",
                    "region": region,
                    "touchpoint": touchpoint,
                    "period_start": week,
                    "value": round(float(callers[w]), 4),
                }
                for w, week in enumerate(weeks)
            ]
        base = REGION_BASE_CUSTOMERS[region]
        customers_now = float(base)
        revenue_added = _planted_effect("revenue", "", region, weeks, implemented_dates)
        cost_added = _planted_effect("cost-to-serve", "", region, weeks, implemented_dates)
        for w, week in enumerate(weeks):
            gross_adds = base * 0.0032 * (1 + rng.normal(0.0, 0.05))
            revenue = (
                customers_now
                * REGION_ARPU[region]
                / 52
                * (1 + 0.02 * season[w] + rng.normal(0.0, 0.006))
            ) + revenue_added[w]
            cost = (
                customers_now
                * REGION_COST_PER_CUSTOMER_WEEK
                * (1 + 0.08 * season[w] + rng.normal(0.0, 0.015))
            ) + cost_added[w]
            scope = {"region": region, "period_start": week}
            rows.append({"kpi": "churn-rate", "value": round(float(churn_pct[w]), 4), **scope})
            rows.append({"kpi": "revenue", "value": round(revenue, 2), **scope})
            rows.append({"kpi": "cost-to-serve", "value": round(cost, 2), **scope})
            customers_now = customers_now * (1 - churn_pct[w] / 100) + gross_adds
    shared: dict[tuple[str, str], np.ndarray] = {}
    for series in KPI_SERIES:
        key = (series["kpi"], series["touchpoint"])
        if key not in shared:
            shared[key] = _ar1_noise(rng, n_weeks, series["noise"] * KPI_NOISE_SHARED)
        noise = shared[key] + _ar1_noise(rng, n_weeks, series["noise"] * local_share)
        values = series["level"] * (
            1 + series["season"] * season + series["trend"] * years + noise
        ) + _planted_effect(
            series["kpi"], series["touchpoint"], series["region"], weeks, implemented_dates
        )
        rows += [
            {
                "kpi": series["kpi"],
                "region": series["region"],
                "touchpoint": series["touchpoint"],
                "period_start": week,
                "value": round(float(values[w]), 2),
            }
            for w, week in enumerate(weeks)
        ]
    for department, weekly_cost in DEPARTMENT_COST_PER_WEEK.items():
        noise = rng.normal(0.0, 0.02, size=n_weeks)
        contact_season = (0.06 if department == "customer-service" else 0.02) * season
        rows += [
            {
                "kpi": "cost-to-serve",
                "department": department,
                "period_start": week,
                "value": round(weekly_cost * (1 + contact_season[w] + noise[w]), 2),
            }
            for w, week in enumerate(weeks)
        ]
    columns = ["kpi", "period_start", "region", "touchpoint", "department", "value"]
    kpis = pd.DataFrame(rows, columns=columns)
    kpis[["region", "touchpoint", "department"]] = kpis[
        ["region", "touchpoint", "department"]
    ].fillna("")
    kpis.insert(2, "period_end", [d + timedelta(days=6) for d in kpis["period_start"]])
    return kpis


def nps_score(values: np.ndarray | pd.Series) -> float:
    """NPS in points (% promoters − % detractors) of an array of 0–10 answers."""
    array = np.asarray(values)
    if array.size == 0:
        return math.nan
    return float(100 * (np.mean(array >= 9) - np.mean(array <= 6)))
