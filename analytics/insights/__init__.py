"""Insights: scores (NPS, CSAT, CES), driver analysis and value of experience."""
