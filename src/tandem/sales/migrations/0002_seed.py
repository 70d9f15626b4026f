"""Seed the default pipelines, lost reasons, the onboarding checklist and exchange rates."""

from decimal import Decimal

from django.db import migrations

PIPELINES = [
    (
        "New business",
        True,
        [
            ("Discovery", 10, "pipeline", "open"),
            ("Demo", 25, "pipeline", "open"),
            ("Proposal", 50, "best_case", "open"),
            ("Negotiation", 75, "commit", "open"),
            ("Closed Won", 100, "closed", "won"),
            ("Closed Lost", 0, "omitted", "lost"),
        ],
    ),
    (
        "Renewals and upsells",
        False,
        [
            ("Up for renewal", 50, "best_case", "open"),
            ("Negotiation", 80, "commit", "open"),
            ("Closed Won", 100, "closed", "won"),
            ("Closed Lost", 0, "omitted", "lost"),
        ],
    ),
]
LOST_REASONS = [
    "Price",
    "Chose a competitor",
    "No decision (status quo)",
    "Timing",
    "Missing feature",
    "No budget",
    "Went dark",
    "Not a fit",
]
ONBOARDING = [
    ("Kick-off call with the customer's team", 2),
    ("Set up the admin account and single sign-on", 5),
    ("Import the customer's data", 10),
    ("Train the users", 14),
    ("First value review", 30),
]
RATES = {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}


def seed(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    LostReason = apps.get_model("sales", "LostReason")
    OnboardingTemplateStep = apps.get_model("sales", "OnboardingTemplateStep")
    ExchangeRate = apps.get_model("sales", "ExchangeRate")
    for position, (name, default, stages) in enumerate(PIPELINES):
        pipeline = Pipeline.objects.create(name=name, is_default=default, position=position)
        for i, (stage, probability, category, outcome) in enumerate(stages):
            Stage.objects.create(
                pipeline=pipeline,
                name=stage,
                position=i,
                probability=probability,
                forecast_category=category,
                outcome=outcome,
            )
    for i, name in enumerate(LOST_REASONS):
        LostReason.objects.create(name=name, position=i)
    for i, (title, days) in enumerate(ONBOARDING):
        OnboardingTemplateStep.objects.create(title=title, position=i, due_after_days=days)
    for currency, rate in RATES.items():
        ExchangeRate.objects.create(currency=currency, rate=rate)


def unseed(apps, schema_editor):
    for model in ("Stage", "Pipeline", "LostReason", "OnboardingTemplateStep", "ExchangeRate"):
        apps.get_model("sales", model).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
