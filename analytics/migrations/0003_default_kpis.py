"""The default business KPIs every organisation starts with (editable afterwards)."""

from django.db import migrations

DEFAULT_KPIS = [
    {
        "slug": "churn-rate",
        "name": "Churn rate",
        "unit": "percent",
        "higher_is_better": False,
        "aggregation": "mean",
        "currency": "",
        "description": "Share of customers at the start of the period who left during it.",
    },
    {
        "slug": "revenue",
        "name": "Revenue",
        "unit": "currency",
        "higher_is_better": True,
        "aggregation": "sum",
        "currency": "EUR",
        "description": "Revenue booked in the period.",
    },
    {
        "slug": "cost-to-serve",
        "name": "Cost to serve",
        "unit": "currency",
        "higher_is_better": False,
        "aggregation": "sum",
        "currency": "EUR",
        "description": "Operating cost of serving customers in the period (contacts, visits, refunds).",
    },
    {
        "slug": "customer-lifetime-value",
        "name": "Customer lifetime value created",
        "unit": "currency",
        "higher_is_better": True,
        "aggregation": "sum",
        "currency": "EUR",
        "description": "Expected lifetime value of the customers won or retained in the period.",
    },
]


def create_default_kpis(apps, schema_editor):
    Kpi = apps.get_model("analytics", "Kpi")
    for kpi in DEFAULT_KPIS:
        Kpi.objects.get_or_create(slug=kpi["slug"], defaults=kpi)


def remove_default_kpis(apps, schema_editor):
    Kpi = apps.get_model("analytics", "Kpi")
    Kpi.objects.filter(slug__in=[kpi["slug"] for kpi in DEFAULT_KPIS], observations__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_kpi_kpiobservation"),
    ]

    operations = [
        migrations.RunPython(create_default_kpis, remove_default_kpis),
    ]
